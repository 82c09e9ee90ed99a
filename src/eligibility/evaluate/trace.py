"""The explanation trace of an evaluation, as plain data (the JSON output and every renderer use it)."""
from __future__ import annotations

from typing import Any

from eligibility.evaluate.assess import Evaluation, deciding, describe_comparison, describe_leaf, leaf_descriptions
from eligibility.evaluate.points import finite, worked_points
from eligibility.language.expr import And, Cmp, Compare, Has, IsTest, Node, Not, OneOf, Or, Ref, show_value
from eligibility.language.model import LEAVES, Criterion, FactValue, Source, leaf_facts
from eligibility.language.numeric import NONE, TODAY, facts_of

_TRUTH = {True: "true", False: "false", None: "unknown"}


def source_dict(s: Source) -> dict:
    return {k: v for k, v in (("id", s.id), ("title", s.title), ("publisher", s.publisher), ("date", s.date),
                              ("reports", s.reports), ("url", s.url), ("locator", s.locator)) if v}


def fact_dict(fv: FactValue | None) -> dict:
    if fv is None:
        return {"value": None, "known": False, "evidence": []}
    return {"value": jsonable(fv.value), "known": fv.known, "date": fv.date or None,
            "evidence": [{"kind": e.kind, "note": e.note, "source": source_dict(e.source)} for e in fv.evidence]}


def jsonable(value: Any) -> Any:
    if value is NONE:
        return "none"
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def node_tree(ev: Evaluation, node: Node) -> dict:
    """The condition tree with each node's outcome; leaves show actual and expected values."""
    out: dict[str, Any] = {"node": node.id, "text": node.text, "outcome": _TRUTH[ev.outcomes.get(node.id)]}
    if isinstance(node, (And, Or)):
        out["kind"] = "and" if isinstance(node, And) else "or"
        out["children"] = [node_tree(ev, k) for k in node.items]
    elif isinstance(node, Not):
        out["kind"] = "not"
        out["children"] = [node_tree(ev, node.item)]
    elif isinstance(node, Ref):
        concept = ev.program.concepts[node.concept]
        out.update(kind="concept", concept=node.concept, negated=node.negated, title=concept.title,
                   children=[node_tree(ev, concept.condition)])
    elif isinstance(node, Compare):
        out.update(kind="compare", facts=list(node.facts), worked=describe_comparison(node, ev.applicant, ev.as_of, ev.today))
    else:
        fv = ev.applicant.fact(node.fact, ev.as_of)
        out.update(kind="test", fact=node.fact, actual=jsonable(fv.value) if fv and fv.known else None,
                   known=bool(fv and fv.known), expected=_expected(node))
        if isinstance(node, Cmp) and node.param:
            out["parameter"] = node.param
    return out


def _expected(node: Node) -> str:
    if isinstance(node, Cmp):
        value = show_value(node.value)
        return f"{node.op} {value}" + (f" ({node.param})" if node.param else "")
    if isinstance(node, OneOf):
        return f"{'not in' if node.negated else 'in'} {show_value(node.values)}"
    if isinstance(node, Has):
        return f"{'does not contain' if node.negated else 'contains'} {show_value(node.item)}"
    if isinstance(node, IsTest):
        return f"is {'not ' if node.negated else ''}{node.test}"
    return ""


def build_trace(ev: Evaluation) -> dict:
    """Everything needed to audit the verdict: criteria, trees, facts with evidence, firings."""
    program = ev.program
    criteria = []
    for c, r in zip(program.criteria, ev.criteria):
        leaves = deciding(program, c.condition, ev.outcomes)
        src = program.sources.get(c.source.ref) if c.source else None
        criteria.append({
            "id": c.id, "title": c.title, "kind": c.kind, "outcome": r.outcome,
            "points": finite(r.points) if c.kind == "scored" else None, "awarded": r.awarded if c.kind == "scored" else None,
            "condition": c.condition_text, "rule_line": c.line,
            "because": leaf_descriptions(leaves, ev.applicant, ev.as_of, ev.today),
            "missing": list(r.missing),
            "source": ({"ref": c.source.ref, "clause": c.source.clause, **({"document": source_dict(src)} if src else {})}
                       if c.source else None),
            "tree": node_tree(ev, c.condition),
            **(points_trace(ev, c) if c.points_expr is not None else {}),
        })
    facts = {name: fact_dict(ev.applicant.fact(name, ev.as_of)) for name in program.facts}
    for name in facts:
        facts[name]["overridden"] = name in ev.applicant.overrides
    out = {"criteria": criteria, "facts": facts, "firings": firing_list(ev)}
    if ev.evaluation_date:          # the date `today` stood for: the --as-of date, else the day of the run
        out["evaluation_date"] = ev.evaluation_date
    return out


def points_trace(ev: Evaluation, c: Criterion) -> dict:
    """Points written as an expression: the formula, its arithmetic on the applicant's values,
    and each input's value with its evidence."""
    facts = facts_of(c.points_expr)
    values = {f: fv.value for f in facts if (fv := ev.applicant.fact(f, ev.as_of)) is not None and fv.known}
    if ev.evaluation_date:
        values[TODAY] = ev.today
    return {"points_formula": c.points_text, "points_worked": worked_points(ev.program, c.points_expr, values),
            "points_because": [describe_leaf(c.condition, ev.applicant.fact(f, ev.as_of), f, ev.as_of) for f in facts]}


def firing_list(ev: Evaluation) -> list[dict]:
    """The engine's firings in order, each with the facts it matched."""
    return [{"rule": f.rule, "matched": {alias: dict(m) for alias, m in f.matched.items()}} for f in ev.firings]
