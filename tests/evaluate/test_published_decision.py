"""A gate that records the authority's published decision: the verdict is known, the reason is not."""
import pytest

from eligibility import api

RULES = """
program: {id: call, title: Call}
facts:
  ministry_selected: {type: bool, description: The ministry's published decision selected the applicant.}
criteria:
  - id: ministry_decision
    kind: gate
    condition: ministry_selected
    basis: {kind: official, note: the ministry published no per-team reasons}
    published_decision: %s
"""


def _evaluate(tmp_path, flag: str, value):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES % flag)
    return api.evaluate_profile({"id": "a", "name": "A", "facts": {"ministry_selected": value}}, str(path))


def test_a_published_decision_says_where_the_verdict_comes_from_and_names_no_reason(tmp_path):
    ev = _evaluate(tmp_path, "true", False)
    assert ev.verdict == "excluded"
    assert "not selected by the published decision (gate 'ministry_decision': ministry_selected is false)" in ev.reason
    assert "no per-applicant reasons were published" in ev.reason
    assert "gate 'ministry_decision' not met, because" not in ev.reason


def test_an_ordinary_gate_keeps_its_failed_criterion_reason(tmp_path):
    ev = _evaluate(tmp_path, "false", False)
    assert ev.reason == "excluded: gate 'ministry_decision' not met, because ministry_selected is false"


def test_a_published_decision_that_selects_and_one_that_is_unknown(tmp_path):
    assert _evaluate(tmp_path, "true", True).verdict == "selected"
    assert _evaluate(tmp_path, "true", "unknown").verdict == "undetermined"


def test_only_a_gate_records_a_published_decision(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text((RULES % "true").replace("kind: gate", "kind: scored\n    points: 1"))
    with pytest.raises(api.InputError, match="only a gate can record a published decision"):
        api.load_rules(str(path))
