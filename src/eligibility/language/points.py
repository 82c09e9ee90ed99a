"""The points of a scored criterion written as an expression (`points: min(weighted_mark, 40)`).

Checked when the rules load, so that every applicant's points are a number of zero or more:
the expression is a number (not a date), reads no optional fact (which may be `none`), divides
by nothing that can be 0 over the declared ranges, and cannot go below 0 over them (an input
without a declared range leaves that side unbounded). Its highest value over the declared
ranges is the criterion's maximum (`inf`: unbounded).
"""
from __future__ import annotations

from typing import Iterator

from eligibility.core.formatting import number
from eligibility.language.bounds import bounds, may_be_zero
from eligibility.language.expr import ExprError, Scope, parse_value
from eligibility.language.numeric import NUMBERS, BinOp, Expr, FactRef, Named, facts_of


def parse_points(text: str, scope: Scope) -> tuple[Expr, float]:
    """The typed points expression and its highest value over the declared ranges; ExprError
    (with an offset into `text`) if it is not a number that is always defined and never negative."""
    expr = parse_value(text, scope, what="points")
    if expr.type not in NUMBERS:
        raise ExprError(0, f"points are a number; '{text}' is a date")
    for node, offset in _parts(expr):
        if isinstance(node, FactRef) and scope.facts[node.fact].optional:
            raise ExprError(offset, f"points cannot read optional fact '{node.fact}' (it may be none)")
        if isinstance(node, BinOp) and node.op == "/" and may_be_zero(bounds(node.right, {}, scope.facts)):
            raise ExprError(offset, f"'{node.right.text}' may be 0 over the declared ranges, so '{node.text}' "
                                    "would have no value")
    low, high = bounds(expr, {}, scope.facts)
    if low < 0:
        open_facts = [f for f in facts_of(expr) if not scope.facts[f].range]
        why = (f"it has no lower bound ({', '.join(open_facts)}: no declared range)" if low == -float("inf")
               else f"it can be as low as {number(low)} over the declared ranges")
        raise ExprError(0, f"points must not be negative: {why}; declare ranges or write max(0, ...)")
    return expr, high


def _parts(expr: Expr, anchor: int | None = None) -> Iterator[tuple[Expr, int]]:
    """Every part with the offset to report it at: its own in the points text, or that of the
    computed value it belongs to (whose parts' offsets are in the computed value's formula)."""
    yield expr, expr.offset if anchor is None else anchor
    inner = expr.offset if anchor is None and isinstance(expr, Named) else anchor
    for part in expr.parts():
        yield from _parts(part, inner)
