"""Fact ranges (`range: [low, high]`) are checked wherever a value enters: profiles, JSON Lines,
CSV and --set; a value outside is one error line naming the file, line and column."""
import pytest

from eligibility.core.errors import InputError
from eligibility.language.profile import apply_overrides, load_applicant
from eligibility.language.rules import load_program

RULES = """\
program:
  id: ranges
  title: Ranges
  sources: [{id: s, title: s}]
facts:
  mark: {type: int, range: [0, 10], unit: points}
  share: {type: float, range: [0, 1]}
criteria:
  - {id: g, kind: gate, condition: 'mark + share >= 7', source: {ref: s, clause: x}}
"""
PROFILE = """\
id: a
name: A
facts:
  mark: {value: MARK, evidence: [{source: {title: panel}, kind: official, note: n}]}
  share: 0.5
"""


@pytest.fixture
def program():
    return load_program("ranges.yaml", text=RULES)


@pytest.mark.parametrize("mark", [0, 10, "unknown"])
def test_values_within_range_are_accepted(program, mark):
    applicant = load_applicant("a.yaml", program, text=PROFILE.replace("MARK", str(mark)).replace(
        "share: 0.5", "share: {value: 0.5, evidence: [{source: {title: p}, kind: official, note: n}]}"))
    assert applicant.values().get("mark") == (None if mark == "unknown" else mark)


@pytest.mark.parametrize("mark", [11, -1])
def test_profile_value_outside_range_is_located(program, mark):
    with pytest.raises(InputError) as info:
        load_applicant("a.yaml", program, text=PROFILE.replace("MARK", str(mark)))
    problem = next(p for p in info.value.problems if "mark" in p.message)
    assert (problem.path, problem.line, problem.col) == ("a.yaml", 4, 17)
    assert problem.message == f"fact 'mark': {mark} is outside its range [0, 10] points"


def test_override_outside_range_is_refused(program):
    applicant = load_applicant("a.yaml", program, text=PROFILE.replace("MARK", "5").replace(
        "share: 0.5", "share: {value: 0.5, evidence: [{source: {title: p}, kind: official, note: n}]}"))
    with pytest.raises(InputError, match=r"mark=15: outside its range \[0, 10\] points"):
        apply_overrides(applicant, program, {"mark": "15"})
    assert apply_overrides(applicant, program, {"mark": "10"}).values()["mark"] == 10


def test_bulk_inputs_check_ranges(run_cli, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text(RULES)
    (tmp_path / "p.jsonl").write_text('{"id":"a","facts":{"mark":11,"share":0.5}}\n'
                                      '{"id":"b","facts":{"mark":5,"share":1.5}}\n'
                                      '{"id":"c","facts":{"mark":7,"share":0}}\n')
    (tmp_path / "p.csv").write_text("id,mark,share\nx,15,0.2\ny,3,0.2\n")
    r = run_cli("batch", str(tmp_path / "p.jsonl"), "--rules", str(rules))
    assert f"{tmp_path / 'p.jsonl'}:1:1: fact 'mark': 11 is outside its range [0, 10] points" in r.stderr
    assert f"{tmp_path / 'p.jsonl'}:2:1: fact 'share': 1.5 is outside its range [0, 1]" in r.stderr
    assert "Traceback" not in r.stderr and "3 inputs" in r.stdout and "2 error(s)" in r.stdout
    r = run_cli("batch", str(tmp_path / "p.csv"), "--rules", str(rules))
    assert f"{tmp_path / 'p.csv'}:2:1: fact 'mark': '15' is outside its range [0, 10] points" in r.stderr


@pytest.mark.parametrize("declared, message", [
    ("{type: int, range: [10, 0]}", "'range' must be [lowest, highest]"),
    ("{type: int, range: [0, 0.5]}", "two whole numbers"),
    ("{type: string, range: [0, 1]}", "applies to int and float facts only"),
])
def test_bad_range_declarations(declared, message):
    with pytest.raises(InputError) as info:
        load_program("ranges.yaml", text=RULES.replace("{type: int, range: [0, 10], unit: points}", declared))
    assert any(message in p.message and p.line == 6 for p in info.value.problems), info.value.problems
