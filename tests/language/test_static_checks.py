"""Never-true / never-false analysis of conditions (src/eligibility/analysis.py)."""
import pytest

from eligibility.core.errors import InputError
from eligibility.language.rules import check_program

HEAD = """program: {id: t, title: T}
facts:
  x: {type: int}
  f: {type: float}
  d: {type: date}
  s: {type: string}
  e: {type: enum, values: [a, b, c]}
  b: {type: bool}
  l: {type: list}
parameters: {lim: 3}
criteria:
  - id: c
    kind: gate
    source: {ref: none, clause: x}
"""


def problems(condition):
    text = HEAD.replace("source: {ref: none, clause: x}", f"condition: '{condition}'")
    try:
        _, found = check_program("t.yaml", text=text)
    except InputError as exc:
        raise AssertionError(str(exc))
    return [p for p in found.errors]


@pytest.mark.parametrize("condition, word, part", [
    ("x > 5 and x < 3", "never true", None),
    ("x > 5 and x < lim", "never true", None),
    ("x > 2.5 and x < 3", "never true", None),              # no integer between
    ('e == "a" and e == "b"', "never true", None),
    ("b and not b", "never true", None),
    ('s != "p" or s != "q"', "never false", None),             # s cannot be both
    ("f >= 0.5 or f < 0.5", "never false", None),
    ('s == "p" and s != "p"', "never true", None),
    ('d < "2025-01-01" and d > "2024-12-31"', "never true", None),
    ('e in ["a", "b", "c"] or b', "never false", 'e in ["a", "b", "c"]'),
    ('b or (x > 1 and x <= 1)', "never true", "x > 1 and x <= 1"),
    ('"q" in l and not "q" in l', "never true", None),
])
def test_constant_conditions_are_errors(condition, word, part):
    [p] = problems(condition)
    assert word in p.message
    assert (p.line, p.col) == (14, 17 + (condition.index(part) if part else 0))
    if part:
        assert f"'{part}' is {word}" in p.message


@pytest.mark.parametrize("condition", [
    "x > 5 and x < 7", "x >= 3 and x <= 3", "x > 2.5 and x < 4", 'e == "a" or e == "b"', "b or x > 1",
    "f > 0.5 and f < 0.5000001", 'd >= "2025-01-01" and d < "2025-01-02"', 's != "p" and s != "q"',
    '"q" in l or "r" in l',
])
def test_satisfiable_conditions_are_not_reported(condition):
    assert problems(condition) == []
