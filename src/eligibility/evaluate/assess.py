"""Node outcomes -> criterion outcomes, score, applicant verdict, reason and trace."""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from eligibility.language.expr import And, Cmp, Compare, Has, Node, Not, OneOf, Or, Ref, show_value
from eligibility.language.model import LEAVES, Applicant, Criterion, FactValue, Program, leaf_facts
from eligibility.language.numeric import TODAY, evaluation_date, worked_side
from eligibility.core.formatting import number

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
SELECTED, EXCLUDED, UNDETERMINED = "selected", "excluded", "undetermined"
_OUTCOME = {True: MET, False: NOT_MET, None: UNKNOWN}
MEMO_SIZE = 8192            # shared assessments kept at once (and their text, see record.py)


@dataclass(frozen=True)
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
    """Everything that follows from the node outcomes: the same for every applicant with the same
    outcomes, so it can be shared between them (see Assessor).

    The reason is kept here unless it names the applicant's own values (a failed gate says which
    fact values failed it, with their evidence): then `reason` is None and `failed` lists each
    failed gate with the leaves that decided it, to be described per applicant."""

    criteria: tuple[CriterionResult, ...]
    score: float
    score_max: float                  # the score if every unknown scored criterion were met
    verdict: str
    reason: str | None
    missing: tuple[str, ...]          # unknown facts that could change the verdict
    failed: tuple[tuple[str, tuple[Node, ...]], ...] = ()
    # whether a fact the reason names can hold equal values written differently (1 and 1.0 of a
    # float fact), so that the reasons below must be kept by the values' types too
    typed_values: bool = True
    # the reasons already written for applicants described by their values alone, by those values
    _reasons: dict[tuple, str] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def summary(self) -> tuple[tuple[float, ...], int, tuple[str, ...], tuple[str, ...]]:
        """(points awarded per scored criterion, gates met, gates failed, every criterion's outcome)."""
        return (tuple(r.awarded for r in self.criteria if r.kind == "scored"),
                sum(r.kind == "gate" and r.outcome == MET for r in self.criteria),
                tuple(gid for gid, _ in self.failed), tuple(r.outcome for r in self.criteria))

    @functools.cached_property
    def reason_facts(self) -> tuple[str, ...]:
        """The facts a failed gate's reason names."""
        return tuple(dict.fromkeys(f for _, leaves in self.failed for leaf in leaves for f in leaf_facts(leaf)))

    def reason_for(self, applicant: Applicant, as_of: str | None) -> str:
        if self.reason is not None:
            return self.reason
        plain = applicant.plain_values()
        if plain is None:
            return self._describe(applicant, as_of)
        # no evidence, dates or overrides: the reason depends on the values it names (and, where
        # they can differ, their types), so applicants sharing them share the text
        key = tuple(map(plain.get, self.reason_facts))
        if self.typed_values:
            key += tuple(map(type, key))
        text = self._reasons.get(key)
        if text is None:
            if len(self._reasons) >= 256:
                self._reasons.clear()
            text = self._reasons[key] = self._describe(applicant, as_of)
        return text

    def _describe(self, applicant: Applicant, as_of: str | None) -> str:
        return "excluded: " + "; ".join(
            f"gate '{gid}' not met, because {describe_leaves(leaves, applicant, as_of)}" for gid, leaves in self.failed)


@dataclass(**({"slots": True} if sys.version_info >= (3, 10) else {}))
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
    assessment: Assessment | None = None

    @property
    def gates_failed(self) -> list[str]:
        return [c.id for c in self.criteria if c.kind == "gate" and c.outcome == NOT_MET]


class Assessor:
    """Evaluations from node outcomes, with the shared part (an Assessment) kept for reuse.

    An Assessment depends on the node outcomes alone. The memo is keyed on anything that
    determines them (the outcomes themselves, see `key`, or durable's fired rules, from which
    they are computed), so applicants with the same outcomes (most of a large population) get
    the same outcomes and Assessment objects, which nothing modifies.

    A new key is assessed a criterion at a time: each criterion's part (its result, and the
    leaves that failed a gate) depends only on the outcomes of its own condition's nodes, so
    parts are kept per criterion, and an Assessment per combination of parts. Many outcome
    vectors share one Assessment (7,471 keys gave 2,076 Assessments in the benchmark's 100,000
    applicants), and with it the reasons and record text kept for it. The memos are bounded:
    past `size` keys they all start again, so memory stays flat; size 0 keeps nothing (every
    evaluation computed afresh, as the tests compare)."""

    def __init__(self, program: Program, size: int = MEMO_SIZE):
        self.program, self.size = program, size
        self._ids = tuple(n.id for c in [*program.concepts.values(), *program.criteria] for n in c.condition.walk())
        self._memo: dict[Any, tuple[dict[int, bool | None], Assessment]] = {}
        self._plan = [(c, settled, _condition_ids(program, c), {}) for c, settled in _results(program)]
        self._by_parts: dict[tuple[int, ...], Assessment] = {}
        self.hits = self.misses = 0

    def key(self, outcomes: Mapping[int, bool | None]) -> tuple:
        """A memo key for node outcomes: every node's outcome, in one fixed order."""
        return tuple(map(outcomes.get, self._ids))

    def assess(self, applicant: Applicant, key: Any, outcomes: Callable[[], dict[int, bool | None]], engine: str,
               as_of: str | None = None, firings: Any = None) -> Evaluation:
        """The evaluation of `applicant` whose node outcomes are determined by `key`; `outcomes()`
        computes them, and is called only when the key is new."""
        hit = self._memo.get(key)
        if hit is None:
            self.misses += 1
            computed = outcomes()
            if not self.size:
                hit = (computed, assessment(self.program, computed))
            else:
                if len(self._memo) >= self.size:
                    self._memo.clear()
                    self._by_parts.clear()
                    for *_, parts in self._plan:
                        parts.clear()
                hit = self._memo[key] = (computed, self._assessment(computed))
        else:
            self.hits += 1
        nodes, a = hit
        return Evaluation(self.program, applicant, nodes, engine, as_of, list(a.criteria), a.score, a.score_max,
                          a.verdict, a.reason_for(applicant, as_of), a.missing, firings, a)

    def _assessment(self, outcomes: Mapping[int, bool | None]) -> Assessment:
        """`assessment(program, outcomes)`, from the parts kept per criterion."""
        numbers, found = [], []
        for c, settled, ids, parts in self._plan:
            sub = tuple(map(outcomes.get, ids))
            part = parts.get(sub)
            if part is None:        # numbered in order of arrival: a number names one part until the memos restart
                part = parts[sub] = (len(parts), _criterion_part(self.program, c, settled, outcomes))
            numbers.append(part[0])
            found.append(part[1])
        combined = tuple(numbers)
        a = self._by_parts.get(combined)
        if a is None:
            a = self._by_parts[combined] = _assemble(self.program, found)
        return a


def _condition_ids(program: Program, criterion: Criterion) -> tuple[int, ...]:
    """The ids of every node a criterion's outcome and explanation can depend on: its condition's,
    and those of the concepts it refers to."""
    nodes = [*criterion.condition.walk()]
    for name in sorted(program.concepts_used(criterion.condition)):
        nodes += program.concepts[name].condition.walk()
    return tuple(n.id for n in nodes)


def assessment(program: Program, outcomes: Mapping[int, bool | None]) -> Assessment:
    """The criteria, score, verdict and (unless it names values) reason for these node outcomes."""
    return _assemble(program, [_criterion_part(program, c, settled, outcomes) for c, settled in _results(program)])


Part = tuple  # (CriterionResult, the leaves that decided a gate not met, else ())


def _criterion_part(program: Program, c: Criterion, settled: Mapping[Any, CriterionResult],
                    outcomes: Mapping[int, bool | None]) -> Part:
    """One criterion's result, and the leaves that decided it if it is a gate not met. An unknown
    criterion's missing facts are those of the unknown tests that decide it (a test is unknown
    exactly when its fact is; a comparison of value expressions names all the facts it reads, as
    it is also unknown when its arithmetic has no value)."""
    value = outcomes.get(c.condition.id)
    if value is not None:
        failed = value is False and c.kind == "gate"
        return settled[value], (tuple(deciding(program, c.condition, outcomes)) if failed else ())
    missing = tuple(sorted({fact for leaf in deciding(program, c.condition, outcomes)
                            if isinstance(leaf, LEAVES) and outcomes.get(leaf.id) is None
                            for fact in leaf_facts(leaf)}))
    return (CriterionResult(c.id, c.title, c.kind, UNKNOWN, c.points, 0, missing) if missing else settled[None]), ()


def _assemble(program: Program, parts: list[Part]) -> Assessment:
    criteria = tuple(r for r, _ in parts)
    score = exact_sum(r.awarded for r in criteria)
    score_max = exact_sum([score, *(r.points for r in criteria if r.kind == "scored" and r.outcome == UNKNOWN)])
    failed = tuple((r.id, leaves) for r, leaves in parts if r.kind == "gate" and r.outcome == NOT_MET)
    return _verdict(program, criteria, score, score_max, failed)


def _results(program: Program) -> list[tuple[Criterion, dict]]:
    """Per criterion, its results when met, not met and unknown with nothing missing: the same for
    every applicant, so made once per program (results are immutable)."""
    return program.made_once(_criterion_results)


def _criterion_results(program: Program) -> list[tuple[Criterion, dict]]:
    return [(c, {v: CriterionResult(c.id, c.title, c.kind, _OUTCOME[v], c.points,
                                    c.points if (c.kind == "scored" and v is True) else 0, ())
                 for v in (True, False, None)}) for c in program.criteria]


def exact_sum(points: Iterable[float]) -> float:
    """Points added in decimal, as written: 0.7 + 0.1 must reach a threshold of 0.8 (binary floats give 0.7999…)."""
    points = list(points)
    if all(type(p) is int for p in points):       # the usual case: the same as the decimal sum
        return sum(points)
    total = sum((Decimal(repr(p)) for p in points), Decimal(0))
    return int(total) if total == total.to_integral_value() else float(total)


def _verdict(program: Program, criteria: tuple[CriterionResult, ...], score: float, score_max: float,
             failed: tuple[tuple[str, tuple[Node, ...]], ...]) -> Assessment:
    threshold = program.decision.threshold
    gates = [r for r in criteria if r.kind == "gate"]
    unknown_gates = [r for r in gates if r.outcome == UNKNOWN]
    unknown_scored = [r for r in criteria if r.kind == "scored" and r.outcome == UNKNOWN]
    missing: tuple[str, ...] = ()
    if failed:
        named = {f for _, leaves in failed for leaf in leaves for f in leaf_facts(leaf)}
        typed = any(getattr(program.facts.get(f), "type", "float") == "float" for f in named)
        return Assessment(criteria, score, score_max, EXCLUDED, None, missing, failed, typed)
    if score_max < threshold:
        verdict = EXCLUDED
        missed = [r.id for r in criteria if r.kind == "scored" and r.outcome == NOT_MET]
        reason = (f"excluded: score {number(score)} is below the threshold of {number(threshold)}"
                  + (f" even if every unknown criterion were met ({number(score_max)})" if unknown_scored else "")
                  + (f" (not met: {', '.join(missed)})" if missed else ""))
    elif not unknown_gates and score >= threshold:
        verdict = SELECTED
        scored = any(r.kind == "scored" for r in criteria)
        parts = [f"all {len(gates)} gates met"] if gates else []
        if scored or threshold:
            parts.append(f"score {number(score)} reaches the threshold of {number(threshold)}")
        reason = "selected: " + (" and ".join(parts) or "no criterion stands in the way")
    else:
        verdict = UNDETERMINED
        open_items = unknown_gates + ([] if score >= threshold else unknown_scored)
        missing = tuple(sorted({f for r in open_items for f in r.missing}))
        parts = [f"gate '{r.id}' is unknown" for r in unknown_gates]
        if score < threshold:
            parts.append(f"score is {number(score)} to {number(score_max)} against a threshold of {number(threshold)}")
        reason = "undetermined: " + "; ".join(parts) + (f"; missing: {', '.join(missing)}" if missing else "")
    return Assessment(criteria, score, score_max, verdict, reason, missing)


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


def describe_leaves(leaves: Iterable[Node], applicant: Applicant, as_of: str | None) -> str:
    """A short clause naming the deciding facts with their evidence."""
    return " and ".join(leaf_descriptions(leaves, applicant, as_of)) or "its condition is not met"


def leaf_descriptions(leaves: Iterable[Node], applicant: Applicant, as_of: str | None) -> list[str]:
    """Each deciding fact with its value and evidence, once."""
    out: list[str] = []
    for leaf in leaves:
        if isinstance(leaf, Compare):
            out.append(describe_comparison(leaf, applicant, as_of))
        out += [describe_leaf(leaf, applicant.fact(f, as_of), f) for f in leaf_facts(leaf)]
    return list(dict.fromkeys(out))


def describe_comparison(leaf: Compare, applicant: Applicant, as_of: str | None) -> str:
    """`left OP right` with the arithmetic worked out on the applicant's values, e.g.
    `4*innovation + 3*impact >= 50: 4 x 9 + 3 x 8 = 60, not >= 50`."""
    values = {f: fv.value for f in leaf_facts(leaf) if (fv := applicant.fact(f, as_of)) is not None}
    values[TODAY] = evaluation_date(as_of)
    return f"{leaf.text}: {worked_side(leaf.left, values)} {leaf.op} {worked_side(leaf.right, values)}"


def describe_leaf(leaf: Node, fv: FactValue | None, fact: str = "") -> str:
    fact = fact or getattr(leaf, "fact", "?")
    if fv is None or fv.value is None:
        return f"{fact} is unknown"
    text = f"{fact} is {show_value(fv.value)}"
    if fv.evidence:
        e = fv.evidence[0]
        text += f" ({e.kind}{', ' + e.source.date if e.source.date else ''})"
    return text
