"""Value expressions in conditions: arithmetic, functions, dates; their types at load, their
defined outcomes (division by zero, overflow: unknown), and errors with file:line:col."""
import datetime as dt

import pytest

from eligibility.api import Evaluator
from eligibility.core.errors import InputError
from eligibility.language.expr import Compare
from eligibility.language.rules import load_program
from eligibility.language.semantics import evaluate_nodes

RULES = """\
program:
  id: arith
  title: Arithmetic
  sources: [{id: s, title: s}]
facts:
  innovation: {type: int}
  impact: {type: int}
  team: {type: int}
  share: {type: float}
  last_voucher: {type: date}
  decided: {type: date}
  tags: {type: list}
parameters:
  min_share: {type: float, value: 0.25}
  lookback: {type: int, value: 3}
criteria:
  - id: c
    kind: gate
    condition: 'CONDITION'
    source: {ref: s, clause: x}
"""


def program(condition):
    return load_program("arith.yaml", text=RULES.replace("CONDITION", condition))


def outcome(condition, **facts):
    """The condition's outcome on both engines and the reference (they must agree)."""
    prog = program(condition)
    root = prog.criteria[0].condition.id
    reference = evaluate_nodes(prog, facts)[root]
    for engine in ("durable", "python"):
        ev = Evaluator(prog, engine=engine)
        got = ev.run(facts).outcomes()
        ev.close()
        assert got[root] == reference, (engine, got[root], reference)
    return reference


@pytest.mark.parametrize("condition, facts, expected", [
    ("4*innovation + 3*impact + 3*team >= 84", dict(innovation=9, impact=8, team=8), True),
    ("4*innovation + 3*impact + 3*team >= 85", dict(innovation=9, impact=8, team=8), False),
    ("4*innovation + 3*impact + 3*team >= 84", dict(innovation=9, team=8), None),
    ("impact > team", dict(impact=8, team=8), False),
    ("impact >= team", dict(impact=8, team=8), True),
    ("impact == share", dict(impact=1, share=1.0), True),
    ("innovation / (impact - team) > 0", dict(innovation=1, impact=2, team=2), None),       # division by zero
    ("innovation / (impact - team) <= 0", dict(innovation=1, impact=2, team=2), None),
    ("innovation * 4503599627370496 > 0", dict(innovation=2), None),                       # 2**53: overflow
    ("innovation * 4503599627370496 > 0", dict(innovation=1), True),
    ("-innovation < -(impact + 1)", dict(innovation=5, impact=3), True),
    ("min(innovation, impact, 5) == 3 and max(share, 0) == 0", dict(innovation=4, impact=3, share=-2.5), True),
    ("abs(impact - team) == 2 and round(share) == -3", dict(impact=1, team=3, share=-2.5), True),   # half away from 0
    ("round(share, 1) == 0.3", dict(share=0.25), True),
    ("share >= min_share", dict(share=0.25), True),
    ("count(tags) > 1", dict(tags=("a", "b")), True),
    ("count(tags) > 1", dict(tags=()), False),
    ("last_voucher + years(lookback) > decided", dict(last_voucher=dt.date(2023, 2, 28), decided=dt.date(2026, 2, 28)), False),
    ("last_voucher + years(lookback) > decided", dict(last_voucher=dt.date(2023, 3, 1), decided=dt.date(2026, 2, 28)), True),
    ("last_voucher + months(1) == \"2024-02-29\"", dict(last_voucher=dt.date(2024, 1, 31)), True),   # clamped to the month's end
    ("years_between(last_voucher, decided) == 2", dict(last_voucher=dt.date(2024, 2, 29), decided=dt.date(2026, 2, 28)), False),
    ("years_between(last_voucher, decided) == 1", dict(last_voucher=dt.date(2024, 2, 29), decided=dt.date(2026, 2, 28)), True),
    ("days_between(last_voucher, decided) == -1", dict(last_voucher=dt.date(2025, 1, 1), decided=dt.date(2024, 12, 31)), True),
    ("last_voucher + days(innovation) > decided", dict(last_voucher=dt.date(9999, 12, 30), innovation=5,
                                                       decided=dt.date(2000, 1, 1)), None),  # past year 9999
])
def test_outcomes(condition, facts, expected):
    assert outcome(condition, **facts) is expected


def test_value_comparisons_are_typed_nodes():
    node = program("4*innovation + 3*impact >= team").criteria[0].condition
    assert isinstance(node, Compare) and node.left.type == "int" and node.facts == ("innovation", "impact", "team")
    assert program("innovation / 2 > share").criteria[0].condition.left.type == "float"
    assert program("last_voucher + years(3) > decided").criteria[0].condition.left.type == "date"


@pytest.mark.parametrize("condition, col, message", [
    ("share >= min_shar", 9, "unknown name 'min_shar' (did you mean 'min_share'?)"),
    ("4*inovation + impact > 3", 2, "unknown name 'inovation' (did you mean 'innovation'?)"),
    ("last_voucher + 3 > decided", 0, "cannot apply '+' to a date and a whole number (write a date plus or minus"),
    ("innovation > last_voucher", 0, "type mismatch: cannot compare a whole number ('innovation') with a date"),
    ("impact / 0 > 1", 9, "division by zero in 'impact / 0'"),
    ("pow(impact, 2) > 1", 0, "function calls are not allowed except min, max"),
])
def test_load_errors_name_file_line_col(condition, col, message):
    with pytest.raises(InputError) as info:
        program(condition)
    (problem,) = info.value.problems
    line = RULES.splitlines().index("    condition: 'CONDITION'") + 1
    assert (problem.path, problem.line, problem.col) == ("arith.yaml", line, 17 + col), str(problem)
    assert message in problem.message, problem.message


def test_fact_read_only_on_the_right_counts_as_used():
    text = RULES.replace("CONDITION", "innovation + impact > team + share")
    from eligibility.language.rules import check_program
    _, problems = check_program("arith.yaml", text=text)
    unused = [p.message for p in problems.items if "no condition reads it" in p.message]
    assert not any(f"'{f}'" in m for m in unused for f in ("innovation", "impact", "team", "share")), unused


COMPUTED = RULES.replace("criteria:", """computed:
  weighted_mark: 4*innovation + 3*impact + 3*team
  capped: {formula: "min(weighted_mark / 10, 5)", description: at most 5}
criteria:""")


def test_computed_values_are_usable_by_name_and_show_their_arithmetic():
    from eligibility.language.model import Applicant, FactValue
    prog = load_program("arith.yaml", text=COMPUTED.replace("CONDITION", "weighted_mark >= 84 and capped < impact"))
    assert list(prog.computed) == ["weighted_mark", "capped"] and prog.computed["capped"].expr.type == "float"
    values = dict(innovation=9, impact=8, team=8)
    applicant = Applicant("a.yaml", "", "a", "A", history={k: (FactValue(v, ()),) for k, v in values.items()})
    for engine in ("durable", "python", "both"):
        ev = Evaluator(prog, engine=engine)
        result = ev.evaluate(applicant)
        ev.close()
        assert result.criteria[0].outcome == "met", engine
    from eligibility.evaluate.trace import build_trace
    tree = build_trace(result)["criteria"][0]["tree"]
    assert tree["children"][0]["worked"] == "weighted_mark >= 84: weighted_mark = 4 x 9 + 3 x 8 + 3 x 8 = 84 >= 84, which is true"
    assert tree["children"][1]["worked"] == "capped < impact: capped = min(84 / 10, 5) = 5 < 8, which is true"


@pytest.mark.parametrize("computed, message", [
    ("  a: b + 1\n  b: innovation\n", "unknown name 'b' (a computed value may use only those defined above it)"),
    ("  innovation: impact + 1\n", "computed value 'innovation': the name is already used by a fact"),
    ("  a: innovation > 1\n", "'innovation > 1' is a condition (true or false), not a number or a date"),
    ("  a: {formula: impact + 1, unit: points, colour: red}\n", "unknown key 'colour'"),
])
def test_computed_value_errors(computed, message):
    text = RULES.replace("CONDITION", "impact > 1").replace("criteria:", "computed:\n" + computed + "criteria:")
    with pytest.raises(InputError) as info:
        load_program("arith.yaml", text=text)
    assert any(message in p.message and p.line > 0 for p in info.value.problems), info.value.problems


def test_today_is_the_evaluation_date_and_is_recorded():
    from eligibility.evaluate.trace import build_trace
    from eligibility.language.model import Applicant, FactValue
    prog = program("last_voucher + years(lookback) <= today")
    applicant = Applicant("a.yaml", "", "a", "A", history={"last_voucher": (FactValue(dt.date(2023, 3, 31), ()),)})
    for engine in ("durable", "python", "both"):
        ev = Evaluator(prog, engine=engine)
        before, on = ev.evaluate(applicant, as_of="2026-03-30"), ev.evaluate(applicant, as_of="2026-03-31")
        ev.close()
        assert (before.criteria[0].outcome, on.criteria[0].outcome) == ("not_met", "met"), engine
    trace = build_trace(on)
    assert trace["evaluation_date"] == "2026-03-31"
    assert trace["criteria"][0]["tree"]["worked"].endswith("= 2026-03-31 <= 2026-03-31, which is true")
    assert "evaluation_date" not in build_trace(Evaluator(program("impact > 1"), "python").evaluate(
        Applicant("a.yaml", "", "a", "A", history={"impact": (FactValue(2, ()),)})))


def test_today_is_a_reserved_name():
    with pytest.raises(InputError, match="'today' is reserved for the evaluation date"):
        load_program("arith.yaml", text=RULES.replace("  team: {type: int}", "  today: {type: date}").replace(
            "CONDITION", "impact > 1"))
