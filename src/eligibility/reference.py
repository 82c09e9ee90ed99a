"""Direct three-valued evaluation of parsed conditions in Python.

This is the reference that the durable-rules path is tested against, and the
`--engine python` evaluator. True/False/None (unknown) follow Kleene's logic:
a test on an unknown fact is unknown, `and` is false as soon as one part is
false, `or` is true as soon as one part is true.
"""
from __future__ import annotations

import operator
from typing import Any, Mapping

from .expr import And, Cmp, Has, Node, Not, OneOf, Or, Ref
from .model import Program

_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
Truth = "bool | None"


def evaluate_nodes(program: Program, facts: Mapping[str, Any]) -> dict[int, bool | None]:
    """The outcome of every node of every concept and criterion, by node id."""
    out: dict[int, bool | None] = {}
    concepts: dict[str, bool | None] = {}

    def concept(name: str) -> bool | None:
        if name not in concepts:
            concepts[name] = node(program.concepts[name].condition)
        return concepts[name]

    def node(n: Node) -> bool | None:
        if isinstance(n, Cmp):
            v = facts.get(n.fact)
            r = None if v is None else _OPS[n.op](v, n.value)
        elif isinstance(n, OneOf):
            v = facts.get(n.fact)
            r = None if v is None else (v in n.values) != n.negated
        elif isinstance(n, Has):
            v = facts.get(n.fact)
            r = None if v is None else (n.item in v) != n.negated
        elif isinstance(n, Ref):
            c = concept(n.concept)
            r = None if c is None else c != n.negated
        elif isinstance(n, Not):
            c = node(n.item)
            r = None if c is None else not c
        elif isinstance(n, And):
            parts = [node(i) for i in n.items]
            r = False if False in parts else None if None in parts else True
        elif isinstance(n, Or):
            parts = [node(i) for i in n.items]
            r = True if True in parts else None if None in parts else False
        else:
            raise TypeError(f"unknown node {type(n).__name__}")
        out[n.id] = r
        return r

    for name in program.concepts:
        concept(name)
    for criterion in program.criteria:
        node(criterion.condition)
    return out
