"""The lowest and highest value a number expression can take when some of its facts are unknown.

Interval arithmetic over the facts' declared ranges (`range: [0, 10]`): a known fact is its value,
an unknown one any value of its range, and one without a declared range any number at all (an
unbounded side is `-inf` or `inf`, never a guess). A part whose facts are all known is computed
exactly by the reference evaluator (numeric.compute). Used for the points of a scored criterion
(`points: min(weighted_mark, 40)`): the "up to" score, and the checks made when the rules load.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from eligibility.language.numeric import (NONE, TODAY, BinOp, Call, Const, Expr, FactRef, Named, Neg, Today,
                                          compute, facts_of, round_half_away)

INF = math.inf
Bounds = tuple[float, float]
ANY: Bounds = (-INF, INF)


def bounds(expr: Expr, values: Mapping[str, Any], facts: Mapping[str, Any]) -> Bounds:
    """(lowest, highest) value of the number expression `expr` for these known `values`, the
    facts (name -> FactSpec) giving the declared range of each unknown one."""
    if all(f in values for f in facts_of(expr)) and (TODAY in values or not _reads_today(expr)):
        value = compute(expr, values)
        if value is None or value is NONE or isinstance(value, bool) or not isinstance(value, (int, float)):
            return ANY                  # no number (undefined, or too large to be exact): nothing is known of it
        return value, value
    if isinstance(expr, FactRef):
        spec = facts.get(expr.fact)
        return tuple(spec.range) if spec is not None and spec.range else ANY  # type: ignore[return-value]
    if isinstance(expr, Named):
        return bounds(expr.item, values, facts)
    if isinstance(expr, Neg):
        low, high = bounds(expr.item, values, facts)
        return -high, -low
    if isinstance(expr, BinOp):
        return _binop(expr.op, bounds(expr.left, values, facts), bounds(expr.right, values, facts))
    if isinstance(expr, Call):
        return _call(expr, [bounds(a, values, facts) if a.type in ("int", "float") else ANY for a in expr.args])
    return ANY                          # a constant is always known; dates and lengths of time are not numbers


def may_be_zero(b: Bounds) -> bool:
    return b[0] <= 0 <= b[1]


def _reads_today(expr: Expr) -> bool:
    return any(isinstance(e, Today) for e in expr.walk())


def _times(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b       # 0 x inf is 0 here: the bound of 0 times anything


def _binop(op: str, a: Bounds, b: Bounds) -> Bounds:
    if op == "+":
        return a[0] + b[0], a[1] + b[1]
    if op == "-":
        return a[0] - b[1], a[1] - b[0]
    if op == "/":
        if may_be_zero(b):
            return ANY
        b = (1 / b[1], 1 / b[0])
    corners = [_times(x, y) for x in a for y in b]
    return min(corners), max(corners)


def _call(expr: Call, args: list[Bounds]) -> Bounds:
    if expr.func == "min":
        return min(a[0] for a in args), min(a[1] for a in args)
    if expr.func == "max":
        return max(a[0] for a in args), max(a[1] for a in args)
    if expr.func == "abs":
        (low, high), = args
        if low >= 0:
            return low, high
        if high <= 0:
            return -high, -low
        return 0, max(-low, high)
    if expr.func == "round":
        digits = expr.args[1].value if len(expr.args) > 1 and isinstance(expr.args[1], Const) else None
        low, high = args[0]
        return (low if math.isinf(low) else round_half_away(low, digits),
                high if math.isinf(high) else round_half_away(high, digits))
    if expr.func == "count":
        return 0, INF
    return ANY
