"""The points of scored criteria written as expressions, for one applicant's values.

The engine decides whether each criterion is met; the points a met criterion is worth, when
they are an expression (`points: min(weighted_mark, 40)`), are computed here from the same
known values by the reference evaluator that defines the expression language (numeric.compute),
whichever engine ran (docs/engine.md). With an unknown input the points are a range: the
lowest and highest value over the declared ranges of the unknown facts (language/bounds.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from eligibility.core.formatting import number
from eligibility.language.bounds import bounds
from eligibility.language.model import Program
from eligibility.language.numeric import Expr, Named, facts_of, worked_side


@dataclass(frozen=True, slots=True)
class Points:
    """A criterion's points for one applicant: `low` = `high` when every input is known."""

    low: float
    high: float
    missing: tuple[str, ...] = ()     # the unknown facts the points read


def criterion_points(program: Program, values: Mapping[str, Any]) -> dict[str, Points]:
    """Criterion id -> points, for the criteria whose points are an expression (none for most programs)."""
    out = {}
    for c in program.criteria:
        if c.points_expr is not None:
            low, high = bounds(c.points_expr, values, program.facts)
            # the load checks make every value 0 or more; below 0 only when a value was too large to be exact
            out[c.id] = Points(max(low, 0), high, tuple(f for f in facts_of(c.points_expr) if f not in values))
    return out


def has_points_expressions(program: Program) -> bool:
    return any(c.points_expr is not None for c in program.criteria)


def finite(points: float) -> float | None:
    """Points as JSON writes them: None for no upper bound (JSON has no infinity)."""
    return None if points == math.inf else points


def worked_points(program: Program, expr: Expr, values: Mapping[str, Any]) -> str:
    """The points' arithmetic on the applicant's values, then that of each computed value it
    names: `min(weighted_mark, 40) = min(84, 40) = 40; weighted_mark = 4 x 9 + 3 x 8 + 3 x 8 = 84`;
    with unknown inputs, the range the points can still take."""
    named = [e for e in expr.walk() if isinstance(e, Named) and e is not expr]
    text = "; ".join(dict.fromkeys([worked_side(expr, values), *(worked_side(n, values) for n in named)]))
    missing = [f for f in facts_of(expr) if f not in values]
    if missing:
        low, high = bounds(expr, values, program.facts)
        unranged = [f for f in missing if not program.facts[f].range]
        text += (f"; between {number(max(low, 0))} and {number(high)} over the declared ranges of {', '.join(missing)}"
                 if high != math.inf else f"; no upper bound: {', '.join(unranged)} has no declared range")
    return text
