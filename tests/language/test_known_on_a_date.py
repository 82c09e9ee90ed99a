"""A fact's date (when its value holds) and its evidence's publication dates are distinct: a value
is on record at a date only if it holds by then and some of its evidence had been published."""
from dataclasses import replace

import pytest

from eligibility.language.profile import load_applicant
from eligibility.language.versions import load_rules
from helpers import RULES

PROFILE = """
id: demo
name: Demo
facts:
  foreign_partner_dependency:
    value: none
    date: 2025-08-04
    evidence:
      - source: {title: Report, publisher: P, date: 2025-08-05, locator: x}
        kind: press
        note: reported the day after the decision
  model_generations:
    - value: 1
      evidence:
        - source: {title: Old, publisher: P, date: 2025-06-01, locator: x}
          kind: company
          note: one release by June
    - value: 2
      date: 2025-08-01
      evidence:
        - source: {title: Later, publisher: P, date: 2025-09-01, locator: x}
          kind: press
          note: a second release in July, reported in September
"""


@pytest.fixture(scope="module")
def applicant(tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "demo.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return load_applicant(str(path), load_rules(RULES))


def test_a_value_reported_only_later_is_unknown_on_its_own_date(applicant):
    assert applicant.fact("foreign_partner_dependency", "2025-08-04") is None
    assert "foreign_partner_dependency" not in applicant.values("2025-08-04")
    fv = applicant.fact("foreign_partner_dependency", "2025-08-05")
    assert fv.value == "none" and fv.date == "2025-08-04"            # holds from its own date
    assert fv.evidence[0].source.date == "2025-08-05"                  # published the day after
    assert applicant.fact("foreign_partner_dependency").value == "none"


def test_the_value_known_then_is_used_until_the_later_one_is_published(applicant):
    assert applicant.fact("model_generations", "2025-08-04").value == 1
    assert applicant.fact("model_generations", "2025-08-31").value == 1
    assert applicant.fact("model_generations", "2025-09-01").value == 2
    assert applicant.values("2025-09-01")["model_generations"] == 2


def test_a_past_date_looked_at_with_later_knowledge(applicant):
    later = replace(applicant, known_by="2025-09-01")
    assert later.fact("model_generations", "2025-08-04").value == 2       # held on 1 August, known by September
    assert later.fact("model_generations", "2025-07-31").value == 1       # not yet holding on 31 July
    assert later.fact("foreign_partner_dependency", "2025-08-04").value == "none"
    assert later.cutoff("2025-08-04") == "2025-09-01" and applicant.cutoff("2025-08-04") == "2025-08-04"
