"""Static analysis of conditions: parts that can never be true, or never be false, given the fact schema.

The method is exhaustive enumeration over a small set of *representative* values per fact:
every value a condition can distinguish is represented, so trying all combinations of them
decides exactly which outcomes a node can take when its facts are known. Representatives:

* bool: true and false; enum: its declared values;
* int and date: each constant used with the fact, and its neighbours on both sides;
* float: each constant, the midpoints between consecutive ones, and one beyond each end;
* string: each constant, plus one value equal to none of them;
* list: every subset of the items that conditions test for.

Comparisons of value expressions (arithmetic, fact with fact) and `is known` tests are not
judged, nor is any node containing one; that node's other parts are judged separately.

A node is enumerated only when the product of its facts' representative counts is at most
`MAX_COMBINATIONS`; a larger node is not judged as a whole, but its parts are. So the
analysis never reports a false alarm, and it may miss a contradiction in a very wide condition.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from eligibility.language.expr import Cmp, Compare, Has, IsTest, Node, OneOf, Ref
from eligibility.language.model import Concept, FactSpec
from eligibility.language.numeric import NONE
from eligibility.language.semantics import NodeEvaluation

MAX_COMBINATIONS = 4096
_OTHER = "\x00other"           # a string equal to no constant of any condition


@dataclass(frozen=True)
class Finding:
    """A node (inside the condition of `owner`) whose outcome is the same for every known value."""

    owner: str                 # "criterion 'x'" or "concept 'y'"
    node: Node
    value: bool                # the only outcome the node can have
    whole: bool                # the node is the owner's whole condition

    @property
    def message(self) -> str:
        never = "never false" if self.value else "never true"
        text = " ".join(self.node.text.split())
        what = f"the condition '{text}'" if self.whole else f"'{text}'"
        return f"{self.owner}: {what} is {never} for any known values of its facts"


def representatives(facts: Mapping[str, FactSpec], roots: Iterable[Node]) -> dict[str, list]:
    """The representative values of every fact, from the constants that `roots` compare it with."""
    constants: dict[str, set] = {name: set() for name in facts}
    for root in roots:
        for n in root.walk():
            if isinstance(n, Cmp) and n.fact in constants:
                constants[n.fact].add(n.value)
            elif isinstance(n, OneOf) and n.fact in constants:
                constants[n.fact].update(n.values)
            elif isinstance(n, Has) and n.fact in constants:
                constants[n.fact].add(n.item)
    return {name: _values(spec, constants[name]) + ([NONE] if spec.optional else []) for name, spec in facts.items()}


def _values(spec: FactSpec, consts: set) -> list:
    t = spec.type
    if t == "bool":
        return [False, True]
    if t == "enum":
        return list(spec.values)
    if t == "string":
        return sorted(consts) + [_OTHER]
    if t == "list":
        items = sorted(consts)
        if len(items) > 12:
            return [()] * (MAX_COMBINATIONS + 1)     # too many subsets: never enumerated
        return [tuple(c) for k in range(len(items) + 1) for c in itertools.combinations(items, k)]
    if t == "date":
        day = dt.timedelta(days=1)
        out = {d + k * day for d in consts for k in (-1, 0, 1)}
        return sorted(out) or [dt.date(2000, 1, 1)]
    if t == "int":
        out = {v for c in consts for v in (math.floor(c) - 1, math.floor(c), math.ceil(c), math.ceil(c) + 1)}
        return sorted(out) or [0]
    if t == "float":
        ordered = sorted(consts)
        if not ordered:
            return [0.0]
        mids = [(a + b) / 2 for a, b in zip(ordered, ordered[1:])]
        return sorted(set(ordered + mids + [ordered[0] - 1, ordered[-1] + 1]))
    return [None]


class _Analysis:
    def __init__(self, facts: Mapping[str, FactSpec], concepts: Mapping[str, Concept], roots: list[Node]):
        self.concepts = concepts
        self.domains = representatives(facts, roots + [c.condition for c in concepts.values()])
        self.seen: dict[int, set] = {}
        self.fact_cache: dict[str, frozenset | None] = {}

    def facts_of(self, node: Node, visiting: tuple = ()) -> frozenset | None:
        """The facts `node` reads, following concepts; None if a concept is missing or circular."""
        out: set = set()
        for n in node.walk():
            if isinstance(n, Ref):
                if n.concept in visiting or n.concept not in self.concepts:
                    return None
                if n.concept not in self.fact_cache:
                    self.fact_cache[n.concept] = self.facts_of(self.concepts[n.concept].condition,
                                                               visiting + (n.concept,))
                sub = self.fact_cache[n.concept]
                if sub is None:
                    return None
                out |= sub
            elif isinstance(n, Compare) or isinstance(n, IsTest) and n.test == "known":
                # arithmetic is not covered by the representatives; `is known` turns on unknown
                # values, which are not enumerated: such a node's other parts are judged alone
                return None
            elif isinstance(n, (Cmp, OneOf, Has, IsTest)):
                if n.fact not in self.domains:
                    return None
                out.add(n.fact)
        return frozenset(out)

    def explore(self, node: Node) -> None:
        facts = self.facts_of(node)
        if facts is None:
            for child in node.children():
                self.explore(child)
            return
        names = sorted(facts)
        if math.prod(len(self.domains[f]) for f in names) <= MAX_COMBINATIONS:
            for combo in itertools.product(*(self.domains[f] for f in names)):
                run = NodeEvaluation(self.concepts, dict(zip(names, combo)))
                run.node(node)
                for nid, value in run.out.items():
                    self.seen.setdefault(nid, set()).add(value)
            return
        for child in node.children():
            self.explore(child)

    def constant(self, node: Node) -> bool | None:
        values = self.seen.get(node.id)
        return next(iter(values)) if values is not None and len(values) == 1 else None

    def causes(self, node: Node) -> list[Node]:
        """What a node's outcome follows from: its children, or a concept's condition."""
        if isinstance(node, Ref):
            concept = self.concepts.get(node.concept)
            return [concept.condition] if concept else []
        return list(node.children())

    def findings(self, owner: str, root: Node) -> list[Finding]:
        """Constant nodes whose constancy is not just inherited from a constant part."""
        out = []
        for n in root.walk():
            value = self.constant(n)
            if value is None or any(self.constant(c) is not None for c in self.causes(n)):
                continue
            out.append(Finding(owner, n, value, n is root))
        value = self.constant(root)
        if value is not None and not out:
            out.append(Finding(owner, root, value, True))
        return out


def constant_conditions(facts: Mapping[str, FactSpec], concepts: Mapping[str, Concept],
                        criteria: Iterable[Any]) -> list[Finding]:
    """Every part of a concept or criterion condition whose outcome cannot vary.

    `criteria` are objects with `id` and `condition` (model.Criterion). Concept references
    that are missing or circular make the referring conditions be skipped, not reported."""
    criteria = list(criteria)
    roots = [c.condition for c in criteria]
    analysis = _Analysis(facts, concepts, roots)
    for concept in concepts.values():
        analysis.explore(concept.condition)
    for root in roots:
        analysis.explore(root)
    out = []
    for cid, concept in concepts.items():
        out += analysis.findings(f"concept '{cid}'", concept.condition)
    for c in criteria:
        out += analysis.findings(f"criterion '{c.id}'", c.condition)
    return out

