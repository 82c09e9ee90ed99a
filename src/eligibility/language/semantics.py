"""Direct three-valued evaluation of parsed conditions in Python.

This is the reference that the durable-rules path is tested against, and the
`--engine python` evaluator. True/False/None (unknown) follow Kleene's logic:
a test on an unknown fact is unknown (and a comparison is unknown when a side has no value:
language/numeric.py), `and` is false as soon as one part is
false, `or` is true as soon as one part is true.
"""
from __future__ import annotations

from typing import Any, Mapping

from eligibility.language.expr import And, Cmp, Compare, Has, IsTest, Node, Not, OneOf, Or, Ref
from eligibility.language.model import Concept, Program
from eligibility.language.numeric import _COMPARE, NONE, compare, compute

OPS = _COMPARE
Truth = "bool | None"


def evaluate_nodes(program: Program, facts: Mapping[str, Any]) -> dict[int, bool | None]:
    """The outcome of every node of every concept and criterion, by node id."""
    run = NodeEvaluation(program.concepts, facts)
    for name in program.concepts:
        run.concept(name)
    for criterion in program.criteria:
        run.node(criterion.condition)
    return run.out


class NodeEvaluation:
    """Evaluates nodes against known fact values, recording every node's outcome in `out`."""

    def __init__(self, concepts: Mapping[str, Concept], facts: Mapping[str, Any]):
        self.concepts = concepts
        self.facts = facts
        self.out: dict[int, bool | None] = {}
        self.concept_values: dict[str, bool | None] = {}

    def concept(self, name: str) -> bool | None:
        if name not in self.concept_values:
            self.concept_values[name] = self.node(self.concepts[name].condition)
        return self.concept_values[name]

    def node(self, n: Node) -> bool | None:
        facts = self.facts
        if isinstance(n, Cmp):
            r = compare(n.op, facts.get(n.fact), n.value)
        elif isinstance(n, OneOf):
            v = facts.get(n.fact)
            r = None if v is None else n.negated if v is NONE else (v in n.values) != n.negated
        elif isinstance(n, IsTest):
            v = facts.get(n.fact)
            r = (v is not None) != n.negated if n.test == "known" else None if v is None else (v is NONE) != n.negated
        elif isinstance(n, Has):
            v = facts.get(n.fact)
            r = None if v is None else (n.item in v) != n.negated
        elif isinstance(n, Compare):
            r = compare(n.op, compute(n.left, facts), compute(n.right, facts))
        elif isinstance(n, Ref):
            c = self.concept(n.concept)
            r = None if c is None else c != n.negated
        elif isinstance(n, Not):
            c = self.node(n.item)
            r = None if c is None else not c
        elif isinstance(n, And):
            parts = [self.node(i) for i in n.items]
            r = False if False in parts else None if None in parts else True
        elif isinstance(n, Or):
            parts = [self.node(i) for i in n.items]
            r = True if True in parts else None if None in parts else False
        else:
            raise TypeError(f"unknown node {type(n).__name__}")
        self.out[n.id] = r
        return r
