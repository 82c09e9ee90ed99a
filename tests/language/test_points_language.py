"""Points written as an expression: checked at load with file:line:col, and the interval
arithmetic (language/bounds.py) that gives their lowest and highest value."""
import math

import pytest

from eligibility.core.errors import InputError
from eligibility.language.bounds import bounds
from eligibility.language.numeric import compute
from eligibility.language.rules import load_program

RULES = """\
program:
  id: points
  title: Points
  sources: [{id: s, title: s}]
facts:
  mark: {type: int, range: [0, 10]}
  share: {type: float, range: [0.5, 2]}
  free: {type: int}
  since: {type: date, optional: true}
parameters:
  cap: {value: 40}
computed:
  doubled: {formula: "2*mark"}
  ratio: {formula: "10 + mark / free"}
criteria:
  - id: g
    kind: gate
    condition: mark >= 0 and share > 0 and free > 0 and since is none
    source: {ref: s, clause: x}
  - id: c
    kind: scored
    points: POINTS
    condition: mark >= 1
    source: {ref: s, clause: x}
"""
POINTS_LINE = RULES.splitlines().index("    points: POINTS") + 1


def load(points):
    return load_program("points.yaml", text=RULES.replace("POINTS", points))


@pytest.mark.parametrize("points, highest", [
    ("mark", 10), ("doubled", 20), ("min(doubled, 15)", 15), ("doubled / 4", 5.0), ("mark * share", 20),
    ("max(0, free)", math.inf), ("min(max(0, free), cap)", 40), ("abs(mark - 20)", 20), ("round(share)", 2),
    ("mark / share", 20.0),
])
def test_points_expressions_load_with_their_highest_value(points, highest):
    (c,) = [c for c in load(points).criteria if c.id == "c"]
    assert c.points_expr is not None and c.points_text == points and c.points == highest


@pytest.mark.parametrize("points, col, message", [
    ("mark - 5", 13, "points must not be negative: it can be as low as -5 over the declared ranges"),
    ("free", 13, "points must not be negative: it has no lower bound (free: no declared range)"),
    ("doubled - free", 13, "it has no lower bound (free: no declared range)"),
    ("mark / (share - 1)", 13, "'share - 1' may be 0 over the declared ranges"),
    ("mark / free", 13, "'free' may be 0 over the declared ranges, so 'mark / free' would have no value"),
    ("2 * ratio", 17, "'free' may be 0 over the declared ranges, so 'mark / free'"),   # at the computed value's name
    ("years_between(since, since)", 27, "points cannot read optional fact 'since' (it may be none)"),
    ("since", 13, "points are a number; 'since' is a date"),
    ("mark >= 2", 13, "is a condition (true or false), not a number or a date"),
    ("mrk", 13, "unknown name 'mrk' (did you mean 'mark'?)"),
    ("2 * mrk", 17, "unknown name 'mrk'"),
    ("__import__('os')", 13, "function calls are not allowed"),
])
def test_points_errors_name_file_line_col(points, col, message):
    with pytest.raises(InputError) as info:
        load(points)
    (problem,) = [p for p in info.value.problems if "criterion 'c'" in p.message]
    assert (problem.line, problem.col) == (POINTS_LINE, col), problem
    assert message in problem.message and problem.message.startswith("criterion 'c': points: "), problem.message


def test_a_gate_still_has_no_points():
    with pytest.raises(InputError, match="a gate has no points"):
        load_program("points.yaml", text=RULES.replace("    condition: mark >= 0 and", "    points: mark\n    condition: mark >= 0 and"))


@pytest.mark.parametrize("points, values, expected", [
    ("mark * share", {}, (0, 20)),
    ("mark * share", {"mark": 4}, (2.0, 8.0)),
    ("mark * share", {"mark": 4, "share": 1.5}, (6.0, 6.0)),
    ("min(doubled, 15)", {}, (0, 15)),
    ("min(doubled, 15)", {"mark": 3}, (6, 6)),
    ("max(0, free)", {}, (0, math.inf)),
    ("max(0, free)", {"free": 12}, (12, 12)),
    ("mark / share", {}, (0.0, 20.0)),
    ("abs(mark - 20)", {}, (10, 20)),
    ("abs(free)", {}, (0, math.inf)),
    ("round(share * 3)", {}, (2, 6)),
])
def test_bounds_over_declared_ranges(points, values, expected):
    program = load(points)
    (c,) = [c for c in program.criteria if c.id == "c"]
    assert bounds(c.points_expr, values, program.facts) == expected


def test_bounds_contain_every_value_the_expression_takes():
    """Soundness: over a grid of known values, every computed value lies within the bounds
    given when some of them are unknown."""
    program = load("mark * share + min(doubled, 15) / share")
    (c,) = [c for c in program.criteria if c.id == "c"]
    for mark in range(11):
        for share in (0.5, 0.75, 1.0, 1.5, 2.0):
            value = compute(c.points_expr, {"mark": mark, "share": share})
            for known in ({}, {"mark": mark}, {"share": share}):
                low, high = bounds(c.points_expr, known, program.facts)
                assert low <= value <= high, (mark, share, known)
