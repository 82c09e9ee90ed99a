"""Node outcomes -> criterion outcomes, score, applicant verdict, reason and trace."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from .expr import And, Cmp, Has, Node, Not, OneOf, Or, Ref, show_value
from .model import Applicant, Criterion, FactValue, Program
from .formatting import number

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
SELECTED, EXCLUDED, UNDETERMINED = "selected", "excluded", "undetermined"
_OUTCOME = {True: MET, False: NOT_MET, None: UNKNOWN}


@dataclass(frozen=True)
class CriterionResult:
    id: str
    title: str
    kind: str
    outcome: str
    points: float
    awarded: float
    missing: tuple[str, ...]          # unknown facts that could settle this criterion


@dataclass
class Evaluation:
    """One applicant evaluated against one program (before any quota)."""

    program: Program
    applicant: Applicant
    outcomes: dict[int, bool | None]
    engine: str
    as_of: str | None = None
    criteria: list[CriterionResult] = field(default_factory=list)
    score: float = 0
    score_max: float = 0              # the score if every unknown scored criterion were met
    verdict: str = UNDETERMINED
    reason: str = ""
    missing: tuple[str, ...] = ()     # unknown facts that could change the verdict
    firings: Any = None               # durable Firings, kept for the trace

    @property
    def gates_failed(self) -> list[str]:
        return [c.id for c in self.criteria if c.kind == "gate" and c.outcome == NOT_MET]


def assess(program: Program, applicant: Applicant, outcomes: dict[int, bool | None], engine: str,
           as_of: str | None = None, firings: Any = None, values: dict | None = None) -> Evaluation:
    """Turn node outcomes into criterion results and the applicant's verdict.

    `values` are the applicant's known fact values as of `as_of` (computed if not given)."""
    ev = Evaluation(program, applicant, outcomes, engine, as_of, firings=firings)
    if values is None:
        values = applicant.values(as_of)
    for c, settled in _results(program):
        value = outcomes.get(c.condition.id)
        if value is not None:
            ev.criteria.append(settled[value])
            continue
        missing = tuple(sorted({leaf.fact for leaf in deciding(program, c.condition, outcomes)
                                if isinstance(leaf, (Cmp, OneOf, Has)) and leaf.fact not in values}))
        ev.criteria.append(CriterionResult(c.id, c.title, c.kind, UNKNOWN, c.points, 0, missing)
                           if missing else settled[None])
    ev.score = exact_sum(r.awarded for r in ev.criteria)
    ev.score_max = exact_sum([ev.score, *(r.points for r in ev.criteria if r.kind == "scored" and r.outcome == UNKNOWN)])
    _verdict(ev, values)
    return ev


_RESULTS: dict[int, tuple[Program, list]] = {}


def _results(program: Program) -> list[tuple[Criterion, dict]]:
    """Per criterion, its results when met, not met and unknown with nothing missing: the same for
    every applicant, so made once per program (results are immutable)."""
    hit = _RESULTS.get(id(program))
    if hit is None or hit[0] is not program:
        if len(_RESULTS) > 64:
            _RESULTS.clear()
        plan = [(c, {v: CriterionResult(c.id, c.title, c.kind, _OUTCOME[v], c.points,
                                        c.points if (c.kind == "scored" and v is True) else 0, ())
                     for v in (True, False, None)}) for c in program.criteria]
        hit = _RESULTS[id(program)] = (program, plan)
    return hit[1]


def exact_sum(points: Iterable[float]) -> float:
    """Points added in decimal, as written: 0.7 + 0.1 must reach a threshold of 0.8 (binary floats give 0.7999…)."""
    points = list(points)
    if all(type(p) is int for p in points):       # the usual case: the same as the decimal sum
        return sum(points)
    total = sum((Decimal(repr(p)) for p in points), Decimal(0))
    return int(total) if total == total.to_integral_value() else float(total)


def _verdict(ev: Evaluation, values: dict) -> None:
    threshold = ev.program.decision.threshold
    gates = [r for r in ev.criteria if r.kind == "gate"]
    failed = [r for r in gates if r.outcome == NOT_MET]
    unknown_gates = [r for r in gates if r.outcome == UNKNOWN]
    unknown_scored = [r for r in ev.criteria if r.kind == "scored" and r.outcome == UNKNOWN]
    if failed:
        ev.verdict = EXCLUDED
        ev.reason = "excluded: " + "; ".join(
            f"gate '{r.id}' not met, because {because(ev, ev.program.criterion(r.id), values)}" for r in failed)
    elif ev.score_max < threshold:
        ev.verdict = EXCLUDED
        ev.reason = (f"excluded: score {number(ev.score)} is below the threshold of {number(threshold)}"
                     + (f" even if every unknown criterion were met ({number(ev.score_max)})" if unknown_scored else "")
                     + _not_met_clause(ev))
    elif not unknown_gates and ev.score >= threshold:
        ev.verdict = SELECTED
        scored = any(r.kind == "scored" for r in ev.criteria)
        parts = [f"all {len(gates)} gates met"] if gates else []
        if scored or threshold:
            parts.append(f"score {number(ev.score)} reaches the threshold of {number(threshold)}")
        ev.reason = "selected: " + (" and ".join(parts) or "no criterion stands in the way")
    else:
        ev.verdict = UNDETERMINED
        open_items = unknown_gates + ([] if ev.score >= threshold else unknown_scored)
        ev.missing = tuple(sorted({f for r in open_items for f in r.missing}))
        parts = [f"gate '{r.id}' is unknown" for r in unknown_gates]
        if ev.score < threshold:
            parts.append(f"score is {number(ev.score)} to {number(ev.score_max)} against a threshold of {number(threshold)}")
        ev.reason = "undetermined: " + "; ".join(parts) + (
            f"; missing: {', '.join(ev.missing)}" if ev.missing else "")


def _not_met_clause(ev: Evaluation) -> str:
    missed = [r.id for r in ev.criteria if r.kind == "scored" and r.outcome == NOT_MET]
    return f" (not met: {', '.join(missed)})" if missed else ""


def deciding(program: Program, node: Node, outcomes: dict[int, bool | None]) -> list[Node]:
    """The leaves that decide `node`'s outcome: what made it true (why) or false (why not)."""
    value = outcomes.get(node.id)
    if isinstance(node, Not):
        return deciding(program, node.item, outcomes)
    if isinstance(node, Ref):
        return deciding(program, program.concepts[node.concept].condition, outcomes)
    if isinstance(node, (And, Or)):
        decisive = False if isinstance(node, And) else True
        if value is decisive:
            kids = [k for k in node.items if outcomes.get(k.id) is decisive]
        elif value is None:
            kids = [k for k in node.items if outcomes.get(k.id) is None]
        else:
            kids = list(node.items)
        return [leaf for k in kids for leaf in deciding(program, k, outcomes)]
    return [node]


def because(ev: Evaluation, criterion: Criterion, values: dict) -> str:
    """A short clause naming the deciding facts with their evidence."""
    parts = []
    for leaf in deciding(ev.program, criterion.condition, ev.outcomes):
        fv = ev.applicant.fact(leaf.fact, ev.as_of)
        parts.append(describe_leaf(leaf, fv))
    return " and ".join(dict.fromkeys(parts)) or "its condition is not met"


def describe_leaf(leaf: Node, fv: FactValue | None) -> str:
    fact = getattr(leaf, "fact", "?")
    if fv is None or fv.value is None:
        return f"{fact} is unknown"
    text = f"{fact} is {show_value(fv.value)}"
    if fv.evidence:
        e = fv.evidence[0]
        text += f" ({e.kind}{', ' + e.source.date if e.source.date else ''})"
    return text
