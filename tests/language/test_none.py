"""Absent vs unknown: optional facts may be `none` (known to be absent), which is not `unknown`;
`null` in a profile is none for an optional fact and an error otherwise, never silently unknown.
The truth table checked here is the one docs/format.md documents."""
import pytest

from eligibility.api import Evaluator
from eligibility.core.errors import InputError
from eligibility.language.numeric import NONE
from eligibility.language.profile import apply_overrides, load_applicant
from eligibility.language.rules import load_program
from eligibility.language.semantics import evaluate_nodes

RULES = """\
program:
  id: none
  title: None and unknown
  sources: [{id: s, title: s}]
facts:
  last_voucher_year: {type: int, optional: true}
  employees: {type: int}
  region: {type: enum, values: [north, south], optional: true}
criteria:
  - {id: c, kind: gate, condition: 'CONDITION', source: {ref: s, clause: x}}
"""
U = None                 # unknown: the fact is left out


def outcome(condition, **facts):
    prog = load_program("none.yaml", text=RULES.replace("CONDITION", condition))
    values = {k: v for k, v in facts.items() if v is not U}
    root = prog.criteria[0].condition.id
    expected = evaluate_nodes(prog, values)[root]
    for engine in ("durable", "python"):
        ev = Evaluator(prog, engine=engine)
        assert ev.run(values).outcomes()[root] == expected, engine
        ev.close()
    return expected


# (condition, value of last_voucher_year, outcome): the documented truth table
TABLE = [
    ("last_voucher_year == 2020", NONE, False), ("last_voucher_year == 2020", U, None),
    ("last_voucher_year != 2020", NONE, True), ("last_voucher_year != 2020", U, None),
    ("last_voucher_year < 2020", NONE, False), ("last_voucher_year >= 2020", NONE, False),
    ("last_voucher_year + 3 >= 2025", NONE, False), ("last_voucher_year + 3 != 2025", NONE, True),
    ("last_voucher_year + employees > 1", NONE, False),      # none wins over unknown employees
    ("last_voucher_year is none", NONE, True), ("last_voucher_year is none", U, None),
    ("last_voucher_year is none", 2020, False), ("last_voucher_year is not none", NONE, False),
    ("last_voucher_year is known", NONE, True), ("last_voucher_year is known", U, False),
    ("last_voucher_year is known", 2020, True), ("last_voucher_year is not known", U, True),
    ("not last_voucher_year == 2020", NONE, True),
    ("last_voucher_year is none or last_voucher_year < 2022", NONE, True),
    ("last_voucher_year is none or last_voucher_year < 2022", 2023, False),
    ("last_voucher_year is none or last_voucher_year < 2022", U, None),
]


@pytest.mark.parametrize("condition, value, expected", TABLE)
def test_truth_table(condition, value, expected):
    assert outcome(condition, last_voucher_year=value) is expected


def test_enum_in_list_with_none():
    assert outcome('region in ["north"]', region=NONE) is False
    assert outcome('region not in ["north"]', region=NONE) is True


EVIDENCE = "evidence: [{source: {title: register}, kind: official, note: n}]"
PROFILE = f"id: a\nname: A\nfacts:\n  last_voucher_year: {{value: VALUE, {EVIDENCE}}}\n  employees: {{value: 12, {EVIDENCE}}}\n"


def applicant(written):
    prog = load_program("none.yaml", text=RULES.replace("CONDITION", "last_voucher_year is none"))
    return prog, load_applicant("a.yaml", prog, text=PROFILE.replace("VALUE", written))


@pytest.mark.parametrize("written", ["none", "null", "~"])
def test_none_or_null_of_an_optional_fact_is_none(written):
    _, a = applicant(written)
    assert a.values()["last_voucher_year"] is NONE and a.fact("last_voucher_year").known


def test_null_in_a_yaml_profile_is_located():
    prog = load_program("none.yaml", text=RULES.replace("CONDITION", "last_voucher_year is none"))
    with pytest.raises(InputError) as info:
        load_applicant("a.yaml", prog, text=PROFILE.replace("value: 12", "value: null").replace("VALUE", "none"))
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (5, 22) and "declare 'employees' 'optional: true'" in problem.message


def test_null_of_a_fact_that_is_not_optional_is_an_error(run_cli, tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text(RULES.replace("CONDITION", "last_voucher_year is none"))
    (tmp_path / "p.jsonl").write_text('{"id":"a","facts":{"last_voucher_year":null,"employees":null}}\n'
                                      '{"id":"b","facts":{"last_voucher_year":"none","employees":"unknown"}}\n')
    r = run_cli("batch", str(tmp_path / "p.jsonl"), "--rules", str(rules), "--format", "jsonl")
    assert f"{tmp_path / 'p.jsonl'}:1:1: fact 'employees': null is not a value of a fact that is not optional" \
        in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert '"verdict":"selected"' in r.stdout and r.stdout.count('"verdict":"error"') == 1


def test_set_none():
    prog, a = applicant("2020")
    assert apply_overrides(a, prog, {"last_voucher_year": "none"}).values()["last_voucher_year"] is NONE
    with pytest.raises(InputError, match="not a valid int"):
        apply_overrides(a, prog, {"employees": "none"})


def test_optional_needs_a_fitting_fact():
    with pytest.raises(InputError, match="'none' is one of its values"):
        load_program("none.yaml", text=RULES.replace("CONDITION", "employees > 1").replace(
            "values: [north, south]", "values: [north, none]"))
    with pytest.raises(InputError, match="fact 'employees' is never none: declare it 'optional: true'"):
        load_program("none.yaml", text=RULES.replace("CONDITION", "employees is none"))
