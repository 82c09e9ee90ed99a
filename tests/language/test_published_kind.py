"""The `published` criterion kind in the rules language: what the loader accepts and refuses."""
import pytest

from eligibility.core.errors import InputError
from eligibility.language.rules import load_program

RULES = """\
program: {id: call, title: Call}
facts:
  decided: {type: bool}
  ok: {type: bool}
criteria:
  - {id: g, kind: gate, condition: ok, basis: official}
  - id: p
    kind: published
    condition: decided
    basis: official
"""


def test_a_published_criterion_loads_without_points():
    (_, p) = load_program("rules.yaml", text=RULES).criteria
    assert (p.kind, p.points, p.points_basis, p.condition_text) == ("published", 0, None, "decided")


@pytest.mark.parametrize("edit, line, message", [
    (("    kind: published\n", "    kind: publishd\n"), 8,
     "criterion 'p': kind must be 'gate', 'scored' or 'published' (did you mean 'published'?)"),
    (("    basis: official\n", "    basis: official\n    points: 10\n"), 11, "criterion 'p': a published criterion has no points"),
    (("    basis: official\n", "    basis: official\n    points_basis: calibration\n"), 11,
     "criterion 'p': a published criterion has no points, so no 'points_basis'"),
    (("  - {id: g, kind: gate,", "  - {id: g, kind: published,"), 8,
     "criterion 'p': a rules file has at most one published criterion (the first is at line 6)"),
])
def test_what_a_published_criterion_refuses(edit, line, message):
    with pytest.raises(InputError) as info:
        load_program("rules.yaml", text=RULES.replace(*edit))
    assert [(p.line, p.message) for p in info.value.problems] == [(line, message)]
