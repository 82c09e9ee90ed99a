"""Node outcomes -> criteria, score, verdict and reason: a pure function of the program and the outcomes.

`assess(program, outcomes)` gives an `Assessment`, the same for every applicant with the same
outcomes. Only the reason of a failed gate names the applicant's own values (and their
evidence): `explain(assessment, applicant, as_of)` writes it. An `Evaluation` is one
applicant's result: the outcomes, the assessment, the reason and the engine's firings.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from eligibility.core.formatting import number
from eligibility.engine.result import Firing, Outcomes
from eligibility.language.expr import And, Cmp, Compare, Has, Node, Not, OneOf, Or, Ref, show_value
from eligibility.language.model import LEAVES, Applicant, Criterion, FactValue, Program, leaf_facts
from eligibility.language.numeric import TODAY, compare, compute, evaluation_date, worked_side
from eligibility.language.standing import VerdictBasis, secondhand_facts, verdict_basis
from eligibility.evaluate.points import Points

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
PUBLISHED = "published"              # the criterion kind of the authority's published decision
SELECTED, EXCLUDED, UNDETERMINED = "selected", "excluded", "undetermined"
_OUTCOME = {True: MET, False: NOT_MET, None: UNKNOWN}


@dataclass(frozen=True, slots=True)
class CriterionResult:
    id: str
    title: str
    kind: str
    outcome: str
    points: float
    awarded: float
    missing: tuple[str, ...]          # unknown facts that could settle this criterion


@dataclass(frozen=True, eq=False)
class Assessment:
    """Everything that follows from the node outcomes alone. `reason` is empty when it names the
    applicant's values (see `explain`): when a gate failed, or a published decision excluded the
    applicant; `failed` lists each failed gate with the leaves that decided it."""

    criteria: tuple[CriterionResult, ...]
    score: float
    score_max: float                  # the score if every unknown scored criterion were met
    verdict: str
    reason: str
    missing: tuple[str, ...]          # unknown facts that could change the verdict
    failed: tuple[tuple[str, tuple[Node, ...]], ...] = ()
    # what the ranking reads: points per scored criterion, gates met, failed gate ids, outcomes
    awarded: tuple[float, ...] = ()
    gates_met: int = 0
    gates_failed: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    reason_facts: tuple[str, ...] = ()  # the facts the reason names (failed gates, a negative published decision)
    published: tuple[str, ...] = ()     # failed gates that record a published decision without reasons
    # a published criterion that settled a verdict the other criteria left undetermined
    # (docs/format.md, "A published decision"): its id, the verdict by the other criteria alone
    # and their reason (empty when it names values), and what decided the published criterion
    published_by: str = ""
    criteria_verdict: str = ""
    criteria_reason: str = ""
    published_leaves: tuple[Node, ...] = ()
    disagreement: str = ""   # a known published decision that the criteria's verdict contradicts, in words


@dataclass(slots=True)
class Evaluation:
    """One applicant evaluated against one program (before any ranking or quota)."""

    program: Program
    applicant: Applicant
    engine: str
    as_of: str | None
    outcomes: Outcomes
    assessment: Assessment
    reason: str
    standing: VerdictBasis            # what the verdict rests on: the rules' basis, second-hand facts
    firings: tuple[Firing, ...] = ()
    day: dt.date | None = None         # the date `today` stood for, when the program reads it

    @property
    def today(self) -> dt.date:
        """The date `today` stood for: the run's day, else the as-of date, else the day of the call."""
        return self.day or evaluation_date(self.as_of)

    @property
    def evaluation_date(self) -> str | None:
        """The date `today` stood for (ISO), for a program whose rules read it; else None."""
        if not self.program.reads_today:
            return None
        return self.today.isoformat()

    @property
    def criteria(self) -> list[CriterionResult]:
        return list(self.assessment.criteria)

    @property
    def score(self) -> float:
        return self.assessment.score

    @property
    def score_max(self) -> float:
        return self.assessment.score_max

    @property
    def verdict(self) -> str:
        return self.assessment.verdict

    @property
    def missing(self) -> tuple[str, ...]:
        return self.assessment.missing

    @property
    def gates_failed(self) -> list[str]:
        return list(self.assessment.gates_failed)


def assess(program: Program, outcomes: Mapping[int, bool | None], points: Mapping[str, Points] | None = None) -> Assessment:
    """The criteria, score, verdict and (unless it names values) reason for these node outcomes,
    and the points of criteria whose points are an expression (evaluate/points.py)."""
    parts = [_criterion(program, c, outcomes, (points or {}).get(c.id)) for c in program.criteria]
    criteria = tuple(r for r, _ in parts)
    score = exact_sum(r.awarded for r in criteria)
    # what unknowns could still add: unknown criteria, and met ones whose points are not known exactly
    score_max = exact_sum([score, *(r.points for r in criteria if r.kind == "scored" and r.outcome == UNKNOWN),
                           *(r.points - r.awarded for r in criteria if r.outcome == MET and r.points != r.awarded)])
    failed = tuple((r.id, leaves) for r, leaves in parts if r.kind == "gate" and r.outcome == NOT_MET)
    verdict, reason, missing = _verdict(program, criteria, score, score_max, failed)
    decision = _published_decision(parts)
    published: dict = {}
    if decision is not None and verdict == UNDETERMINED:     # the decision settles what the criteria leave open
        by, leaves, final = decision
        published = {"published_by": by.id, "criteria_verdict": verdict, "criteria_reason": reason,
                     "published_leaves": leaves}
        # a negative decision's reason names the applicant's values: explain writes it then
        reason = "" if final == EXCLUDED else decided_reason(by.id, final, reason)
        verdict, missing = final, ()
    elif decision is not None and decision[2] != verdict:    # the criteria's verdict stands; say so
        did = "selected it" if decision[2] == SELECTED else "did not select it"
        published = {"disagreement": f"the published decision (criterion '{decision[0].id}') {did}, "
                                     "against this project's reading"}
        reason = f"{reason}; {published['disagreement']}" if reason else ""
    named = [*(leaf for _, leaves in failed for leaf in leaves), *published.get("published_leaves", ())]
    return Assessment(criteria, score, score_max, verdict, reason, missing, failed,
                      awarded=tuple(r.awarded for r in criteria if r.kind == "scored"),
                      gates_met=sum(r.kind == "gate" and r.outcome == MET for r in criteria),
                      gates_failed=tuple(gid for gid, _ in failed),
                      outcomes=tuple(r.outcome for r in criteria),
                      reason_facts=tuple(dict.fromkeys(f for leaf in named for f in leaf_facts(leaf))),
                      published=tuple(gid for gid, _ in failed if program.criterion(gid).published_decision),
                      **published)


def _published_decision(parts: list[tuple[CriterionResult, tuple]]) -> tuple[CriterionResult, tuple, str] | None:
    """The published criterion, the leaves that decided it and the verdict it gives (met:
    selected; not met: excluded), when its outcome is known. It settles only a verdict the other
    criteria leave undetermined: a what-if on the criteria still shows what they give."""
    for r, leaves in parts:
        if r.kind == PUBLISHED and r.outcome != UNKNOWN:
            return r, leaves, SELECTED if r.outcome == MET else EXCLUDED
    return None


def decided_reason(criterion: str, verdict: str, criteria_reason: str, because: str = "") -> str:
    """The reason of a verdict set by the published criterion: the decision, then what this
    project's criteria alone give (`criteria_reason`, e.g. "undetermined: gate 'x' is unknown")."""
    if verdict == SELECTED:
        text = f"selected by the published decision (criterion '{criterion}')"
    else:
        text = (f"excluded: not selected by the published decision (criterion '{criterion}': {because}); "
                "the verdict comes from the published decision, and no per-applicant reasons were published")
    return f"{text}; by this project's criteria alone it is {criteria_reason}"


def _criterion(program: Program, c: Criterion, outcomes: Mapping[int, bool | None],
               points: Points | None = None) -> tuple[CriterionResult, tuple]:
    """One criterion's result, and the leaves that decided it if it is a gate not met. An unknown
    criterion's missing facts are those of the unknown tests that decide it (a test is unknown
    exactly when its fact is). Points given as a range (an expression with unknown inputs) award
    the lowest and are out of the highest; their unknown inputs are missing while they could count."""
    points = points or Points(c.points, c.points)
    value = outcomes.get(c.condition.id)
    scored = c.kind == "scored"
    if value is not None:
        failed = value is False and not scored     # a gate's or published criterion's deciding leaves
        result = CriterionResult(c.id, c.title, c.kind, _OUTCOME[value], points.high,
                                 points.low if scored and value else 0, points.missing if value else ())
        return result, (tuple(deciding(program, c.condition, outcomes)) if failed else ())
    missing = tuple(sorted({fact for leaf in deciding(program, c.condition, outcomes)
                            if isinstance(leaf, LEAVES) and outcomes.get(leaf.id) is None
                            for fact in leaf_facts(leaf)} | set(points.missing)))
    return CriterionResult(c.id, c.title, c.kind, UNKNOWN, points.high, 0, missing), ()


def exact_sum(points: Iterable[float]) -> float:
    """Points added in decimal, as written: 0.7 + 0.1 must reach a threshold of 0.8 (binary floats give 0.7999…)."""
    points = list(points)
    if all(type(p) is int for p in points):       # the usual case: the same as the decimal sum
        return sum(points)
    if math.inf in points:                        # points without an upper bound
        return math.inf
    total = sum((Decimal(repr(p)) for p in points), Decimal(0))
    return int(total) if total == total.to_integral_value() else float(total)


def _verdict(program: Program, criteria: tuple[CriterionResult, ...], score: float, score_max: float,
             failed: tuple) -> tuple[str, str, tuple[str, ...]]:
    threshold = program.decision.threshold
    gates = [r for r in criteria if r.kind == "gate"]
    unknown_gates = [r for r in gates if r.outcome == UNKNOWN]
    unknown_scored = [r for r in criteria if r.kind == "scored" and r.outcome == UNKNOWN]
    if failed:
        return EXCLUDED, "", ()
    if score_max < threshold:
        missed = [r.id for r in criteria if r.kind == "scored" and r.outcome == NOT_MET]
        return EXCLUDED, (f"excluded: score {number(score)} is below the threshold of {number(threshold)}"
                          + (f" even if every unknown criterion were met ({number(score_max)})" if unknown_scored else "")
                          + (f" (not met: {', '.join(missed)})" if missed else "")), ()
    if not unknown_gates and score >= threshold:
        scored = any(r.kind == "scored" for r in criteria)
        parts = [f"all {len(gates)} gates met"] if gates else []
        if scored or threshold:
            parts.append(f"score {number(score)} reaches the threshold of {number(threshold)}")
        return SELECTED, "selected: " + (" and ".join(parts) or "no criterion stands in the way"), ()
    open_scored = [] if score >= threshold else [r for r in criteria if r.kind == "scored" and r.missing]
    open_items = unknown_gates + open_scored
    missing = tuple(sorted({f for r in open_items for f in r.missing}))
    parts = [f"gate '{r.id}' is unknown" for r in unknown_gates]
    if score < threshold:
        parts.append(f"score is {number(score)} to {upper_bound(score_max)} against a threshold of {number(threshold)}")
    return UNDETERMINED, "undetermined: " + "; ".join(parts) + (f"; missing: {', '.join(missing)}" if missing else ""), missing


def upper_bound(score_max: float) -> str:
    """The "up to" score as people read it; unbounded when an unknown input of some points has no declared range."""
    return "unbounded (an unknown input of the points has no declared range)" if score_max == math.inf \
        else number(score_max)


def explain(assessment: Assessment, applicant: Applicant, as_of: str | None, day: dt.date | None = None) -> str:
    """The reason of the verdict for this applicant: a failed gate's (and a negative published
    decision's) names the facts that decided it, with the applicant's values and the kind and
    date of their evidence. `day`: the date `today` stands for (default: evaluation_date(as_of))."""
    if assessment.reason:
        return assessment.reason
    a = assessment
    own = a.criteria_reason or "excluded: " + "; ".join(
        (f"not selected by the published decision (gate '{gid}': {describe_leaves(leaves, applicant, as_of, day)}); "
         "the verdict comes from the published decision, and no per-applicant reasons were published"
         if gid in a.published else
         f"gate '{gid}' not met, because {describe_leaves(leaves, applicant, as_of, day)}")
        for gid, leaves in a.failed)
    if not a.published_by:
        return f"{own}; {a.disagreement}" if a.disagreement else own
    return decided_reason(a.published_by, a.verdict, own,
                          describe_leaves(a.published_leaves, applicant, as_of, day))


def standing(program: Program, assessment: Assessment, applicant: Applicant, as_of: str | None) -> VerdictBasis:
    """What the verdict rests on: the basis of the rules that decide it, and the deciding facts
    whose evidence (published by `as_of`) is only press or analysis."""
    rules = verdict_basis(program, assessment.verdict, assessment.outcomes, published_by=assessment.published_by)
    facts = secondhand_facts(program, applicant, as_of, rules.rests_on)
    return verdict_basis(program, assessment.verdict, assessment.outcomes, facts,
                         assessment.published_by) if facts else rules


def deciding(program: Program, node: Node, outcomes: Mapping[int, bool | None]) -> list[Node]:
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


def describe_leaves(leaves: Iterable[Node], applicant: Applicant, as_of: str | None,
                    day: dt.date | None = None) -> str:
    """A short clause naming the deciding facts with their evidence."""
    return " and ".join(leaf_descriptions(leaves, applicant, as_of, day)) or "its condition is not met"


def leaf_descriptions(leaves: Iterable[Node], applicant: Applicant, as_of: str | None,
                      day: dt.date | None = None) -> list[str]:
    """Each deciding fact with its value and evidence, once."""
    out: list[str] = []
    for leaf in leaves:
        if isinstance(leaf, Compare):
            out.append(describe_comparison(leaf, applicant, as_of, day))
        out += [describe_leaf(leaf, applicant.fact(f, as_of), f, applicant.cutoff(as_of)) for f in leaf_facts(leaf)]
    return list(dict.fromkeys(out))


def describe_comparison(leaf: Compare, applicant: Applicant, as_of: str | None, day: dt.date | None = None) -> str:
    """`left OP right` with the arithmetic worked out on the applicant's values and what it comes
    to, e.g. `4*innovation + 3*impact >= 50: 4 x 9 + 3 x 8 = 60 >= 50, which is true`."""
    values = {f: fv.value for f in leaf_facts(leaf) if (fv := applicant.fact(f, as_of)) is not None}
    values[TODAY] = day or evaluation_date(as_of)
    truth = compare(leaf.op, compute(leaf.left, values), compute(leaf.right, values))
    return (f"{leaf.text}: {worked_side(leaf.left, values)} {leaf.op} {worked_side(leaf.right, values)}, "
            f"which is {'unknown' if truth is None else str(truth).lower()}")


def describe_leaf(leaf: Node, fv: FactValue | None, fact: str = "", known_by: str | None = None) -> str:
    fact = fact or getattr(leaf, "fact", "?")
    if fv is None or fv.value is None:
        return f"{fact} is unknown"
    text = f"{fact} is {show_value(fv.value)}"
    # cite the first evidence published by then: later evidence was not known
    e = next((e for e in fv.evidence if not e.published_after(known_by)), None)
    if e is not None:
        text += f" ({e.kind}{', ' + e.source.date if e.source.date else ''})"
    return text
