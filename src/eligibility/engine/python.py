"""The `--engine python` evaluator: the parsed conditions turned into Python closures once per program.

It computes exactly what reference.evaluate_nodes computes (every node's three-valued outcome,
concepts evaluated once per applicant), without walking the tree and testing node types for every
applicant: each node becomes a small function of (facts, outcomes, concept values) built from the
parsed nodes. No source text is generated or evaluated. The differential tests hold it to the
reference and to the durable engine on every node.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from eligibility.engine.result import EngineResult, Outcomes
from eligibility.language.expr import And, Cmp, Compare, Has, IsTest, Node, Not, OneOf, Or, Ref
from eligibility.language.model import Program
from eligibility.language.numeric import (MAX_SPAN, NONE, TODAY, BinOp, Call, Const, Expr, FactRef, Named, Neg, Span, add_span, number,
                                          round_half_away, Today, years_between)
from eligibility.language.semantics import OPS

NodeFn = Callable[[Mapping[str, Any], Outcomes, list], "bool | None"]
_PENDING = object()            # a concept not evaluated yet for this applicant


class CompiledNodes:
    """`evaluate(facts)`: the outcome of every node of every concept and criterion, by node id."""

    def __init__(self, program: Program):
        # facts that may be `none`: only their tests check for it
        self._optional = {name for name, spec in {**program.family_facts, **program.facts}.items() if spec.optional}
        self._index = {name: i for i, name in enumerate(program.concepts)}
        self._concepts: list[NodeFn] = []
        for name in program.concepts:
            self._concepts.append(self._node(program.concepts[name].condition))
        self._criteria = [self._node(c.condition) for c in program.criteria]

    def evaluate(self, facts: Mapping[str, Any]) -> Outcomes:
        out: Outcomes = {}
        values = [_PENDING] * len(self._concepts)
        for i, fn in enumerate(self._concepts):
            if values[i] is _PENDING:
                values[i] = fn(facts, out, values)
        for fn in self._criteria:
            fn(facts, out, values)
        return out

    @staticmethod
    def _is_test(n: IsTest) -> NodeFn:
        nid, fact, negated = n.id, n.fact, n.negated
        if n.test == "known":
            def is_known(facts, out, values):
                r = out[nid] = (facts.get(fact) is not None) != negated
                return r
            return is_known

        def is_none(facts, out, values):
            v = facts.get(fact)
            r = out[nid] = None if v is None else (v is NONE) != negated
            return r
        return is_none

    def _concept(self, index: int) -> Callable[[Mapping[str, Any], Outcomes, list], "bool | None"]:
        concepts = self._concepts

        def value(facts, out, values):
            v = values[index]
            if v is _PENDING:
                v = values[index] = concepts[index](facts, out, values)
            return v
        return value

    def _node(self, n: Node) -> NodeFn:
        nid = n.id
        if isinstance(n, Cmp):
            fact, op, expected, if_none = n.fact, OPS[n.op], n.value, n.op == "!="
            if fact not in self._optional:
                def cmp_known_or_unknown(facts, out, values):
                    v = facts.get(fact)
                    r = out[nid] = None if v is None else op(v, expected)
                    return r
                return cmp_known_or_unknown

            def cmp(facts, out, values):
                v = facts.get(fact)
                r = out[nid] = None if v is None else if_none if v is NONE else op(v, expected)
                return r
            return cmp
        if isinstance(n, IsTest):
            return self._is_test(n)
        if isinstance(n, (OneOf, Has)):
            fact, negated = n.fact, n.negated
            if isinstance(n, OneOf):
                options = n.values
                if fact not in self._optional:
                    def one_of_known_or_unknown(facts, out, values):
                        v = facts.get(fact)
                        r = out[nid] = None if v is None else (v in options) != negated
                        return r
                    return one_of_known_or_unknown

                def one_of(facts, out, values):
                    v = facts.get(fact)
                    r = out[nid] = None if v is None else negated if v is NONE else (v in options) != negated
                    return r
                return one_of
            item = n.item

            def has(facts, out, values):
                v = facts.get(fact)
                r = out[nid] = None if v is None else (item in v) != negated
                return r
            return has
        if isinstance(n, Compare):
            left, right, op = value_fn(n.left), value_fn(n.right), OPS[n.op]

            if_none = n.op == "!="

            def compare(facts, out, values):
                a, b = left(facts), right(facts)
                r = out[nid] = if_none if a is NONE or b is NONE else None if a is None or b is None else op(a, b)
                return r
            return compare
        if isinstance(n, Ref):
            concept, negated = self._concept(self._index[n.concept]), n.negated

            def ref(facts, out, values):
                c = concept(facts, out, values)
                r = out[nid] = None if c is None else c != negated
                return r
            return ref
        if isinstance(n, Not):
            child = self._node(n.item)  # type: ignore[arg-type]

            def not_(facts, out, values):
                c = child(facts, out, values)
                r = out[nid] = None if c is None else not c
                return r
            return not_
        if isinstance(n, (And, Or)):
            kids = tuple(self._node(i) for i in n.items)
            # every child is evaluated (no short cut): each node's outcome is recorded for the trace
            if isinstance(n, And):
                def and_(facts, out, values):
                    r = True
                    for k in kids:
                        v = k(facts, out, values)
                        if v is False:
                            r = False
                        elif v is None and r:
                            r = None
                    out[nid] = r
                    return r
                return and_

            def or_(facts, out, values):
                r = False
                for k in kids:
                    v = k(facts, out, values)
                    if v:
                        r = True
                    elif v is None and r is False:
                        r = None
                out[nid] = r
                return r
            return or_
        raise TypeError(f"unknown node {type(n).__name__}")


class PythonResult(EngineResult):
    """The outcomes the closures computed; the key is their values in evaluation order, which is
    the same for every applicant of a program."""

    __slots__ = ("_outcomes",)

    def __init__(self, outcomes: Outcomes):
        self._outcomes = outcomes

    @property
    def key(self) -> tuple:
        return tuple(self._outcomes.values())

    def outcomes(self) -> Outcomes:
        return self._outcomes


class PythonEngine:
    """The direct evaluator behind the engine interface (see engine/__init__.py)."""

    name = "python"

    def __init__(self, program: Program):
        self.nodes = CompiledNodes(program)

    def run_all(self, values: Sequence[Mapping[str, Any]], trace: bool = False) -> list[EngineResult]:
        evaluate = self.nodes.evaluate
        return [PythonResult(evaluate(v)) for v in values]

    def close(self) -> None:
        pass


ValueFn = Callable[[Mapping[str, Any]], Any]


def value_fn(expr: Expr) -> ValueFn:
    """A function of the known fact values computing `expr` (None: unknown or undefined), built
    from the typed expression once; the meaning is language/numeric.compute's."""
    if isinstance(expr, Const):
        const = expr.value
        return lambda facts: const
    if isinstance(expr, FactRef):
        fact = expr.fact
        return lambda facts: facts.get(fact)
    if isinstance(expr, Named):
        return value_fn(expr.item)
    if isinstance(expr, Today):
        return lambda facts: facts.get(TODAY)
    if isinstance(expr, Neg):
        item = value_fn(expr.item)

        def neg(facts):
            v = item(facts)
            if v is None or v is NONE:
                return v
            return Span(-v.months, -v.days) if isinstance(v, Span) else number(-v)
        return neg
    if isinstance(expr, BinOp):
        return _binop_fn(expr)
    assert isinstance(expr, Call)
    return _call_fn(expr)


def _binop_fn(expr: BinOp) -> ValueFn:
    left, right = value_fn(expr.left), value_fn(expr.right)
    if expr.type == "date":
        sign = -1 if expr.op == "-" else 1
        date_first = expr.left.type == "date"
        op = _known_pair(lambda a, b: add_span(a, b, sign) if date_first else add_span(b, a, sign))
    else:
        arith = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
                 "/": lambda a, b: None if b == 0 else a / b}[expr.op]
        op = _known_pair(lambda a, b: None if (v := arith(a, b)) is None else number(v))
    return lambda facts: op(left(facts), right(facts))


def _known_pair(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """`fn` of two values, where none on either side gives none, else unknown gives unknown."""
    def apply(a, b):
        if a is NONE or b is NONE:
            return NONE
        if a is None or b is None:
            return None
        return fn(a, b)
    return apply


def _call_fn(expr: Call) -> ValueFn:
    args = tuple(value_fn(a) for a in expr.args)
    func = expr.func
    impl: Callable[..., Any] = {
        "min": min, "max": max, "abs": abs, "count": len, "years_between": years_between,
        "days_between": lambda a, b: (b - a).days,
        "round": lambda v, digits=None: number(round_half_away(v, digits)),
        "years": lambda n: Span(months=12 * n), "months": lambda n: Span(months=n), "days": lambda n: Span(days=n),
    }[func]
    span = func in ("years", "months", "days")

    def call(facts):
        values = [a(facts) for a in args]
        if any(v is NONE for v in values):
            return NONE
        if any(v is None for v in values):
            return None
        if span and abs(values[0]) > MAX_SPAN:
            return None
        return impl(*values)
    return call
