"""Every source the shipped rules and profiles cite opens: a public URL, a file in the repository,
or a citation whose locator says that no URL is on record (never a guessed address)."""
import glob
import os

from eligibility.language.profile import load_applicant
from eligibility.language.rules import load_program
from eligibility.language.versions import load_rules
from helpers import ROOT, RULES

NO_URL = "(no URL on record)"


def shipped_sources():
    program = load_rules(RULES)
    for path in [RULES, *glob.glob(os.path.join(ROOT, "rules", "sovereign-ai-2025", "*.yaml"))]:
        yield from ((path, s) for s in load_program(path).sources.values())
    for path in glob.glob(os.path.join(ROOT, "applicants", "**", "*.yaml"), recursive=True):
        applicant = load_applicant(path, program)
        yield from ((path, e.source) for values in applicant.history.values() for fv in values for e in fv.evidence)


def test_every_cited_source_opens_or_says_it_has_no_url():
    seen = 0
    for path, source in shipped_sources():
        seen += 1
        assert source.publisher and source.title and (source.date or source.reports), (path, source)
        if source.url:
            assert source.url.startswith("https://"), (path, source)
        elif source.locator.startswith(("docs/", "examples/")):
            assert os.path.isfile(os.path.join(ROOT, source.locator)), (path, source)
        else:
            assert source.locator.endswith(NO_URL), (path, source)
        for text in (source.url, source.locator):
            assert "../" not in text and "/work" not in text and "shared/" not in text, (path, source)
    assert seen > 100
