"""Counterfactuals: the smallest sets of fact changes that flip an applicant's verdict.

Candidate values stay inside the fact schema: the other bool, every enum value, list items
added or removed (the items the conditions test), numbers and dates just either side of
every threshold the conditions read, and the string literals the conditions compare with
(plus one string equal to none of them). Only facts read by criteria that stand in the way
of the target verdict are varied. Sets are searched by size (1, 2, 3 changes), and a set
that contains a smaller flip is skipped, so every reported flip is minimal.

Each candidate is screened with the direct Python evaluator; every flip reported is then
re-run through the durable-rules engine and kept only if the engine gives the same verdict.

For an undetermined applicant the unknown facts are also ranked as "questions still to
ask": how many open criterion outcomes each would settle, whatever the answer, and which
answers decide the verdict.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from eligibility.evaluate.assess import EXCLUDED, MET, NOT_MET, SELECTED, UNDETERMINED, UNKNOWN, Evaluation
from eligibility.language.expr import Cmp, Has, OneOf, show_value
from eligibility.language.model import Applicant, FactSpec, Program
from eligibility.language.semantics import evaluate_nodes
from eligibility.evaluate.evaluator import Evaluator
from eligibility.evaluate.trace import jsonable
from eligibility.language.profile import apply_overrides

#: the verdicts worth reaching from each verdict
TARGETS = {EXCLUDED: (SELECTED,), UNDETERMINED: (SELECTED, EXCLUDED), SELECTED: (EXCLUDED,)}
MAX_CHANGES = 3
MAX_FLIPS = 25
MAX_SCREENED = 200_000        # a bound on the search for very large fact schemas
NOTE = "counterfactual change found by --flip"


@dataclass(frozen=True)
class Change:
    fact: str
    old: Any          # None = unknown
    new: Any
    also: tuple = field(default=(), compare=False)   # other values with the same effect

    def as_dict(self) -> dict:
        return {"fact": self.fact, "from": jsonable(self.old), "to": jsonable(self.new),
                "or": [jsonable(v) for v in self.also]}

    def __str__(self) -> str:
        alternatives = "".join(f" or {shown(v)}" for v in self.also)
        return f"{self.fact}: {shown(self.old)} -> {shown(self.new)}{alternatives}"

    def as_setting(self) -> str:
        """The change as a `--set fact=value` argument."""
        value = self.new
        if isinstance(value, tuple):
            return f"{self.fact}={';'.join(value)}"
        if isinstance(value, bool):
            return f"{self.fact}={'true' if value else 'false'}"
        if isinstance(value, dt.date):
            return f"{self.fact}={value.isoformat()}"
        return f"{self.fact}={value}"


@dataclass
class Flip:
    changes: tuple[Change, ...]
    verdict: str
    score: float
    reason: str
    criteria: list[dict]      # criteria whose outcome the change moves: id, from, to

    def as_dict(self) -> dict:
        return {"size": len(self.changes), "changes": [c.as_dict() for c in self.changes],
                "set": [c.as_setting() for c in self.changes], "verdict": self.verdict,
                "score": self.score, "reason": self.reason, "criteria": self.criteria,
                "confirmed_by": "durable"}


@dataclass
class Question:
    fact: str
    settles: list[str]                 # open criteria settled whatever the answer
    may_settle: list[str]              # open criteria settled by some answers
    answers: list[tuple[Any, str]]     # (value, verdict) for each candidate answer

    @property
    def decisive(self) -> int:
        return sum(v != UNDETERMINED for _, v in self.answers)

    def as_dict(self) -> dict:
        return {"fact": self.fact, "settles": self.settles, "may_settle": self.may_settle,
                "decisive_answers": self.decisive,
                "answers": [{"value": jsonable(v), "verdict": verdict} for v, verdict in self.answers]}


@dataclass
class FlipReport:
    verdict: str
    targets: tuple[str, ...]
    facts: list[str]                   # the facts varied
    flips: list[Flip] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    screened: int = 0
    engine_runs: int = 0
    rejected: int = 0                  # screened hits the durable engine did not confirm
    max_changes: int = MAX_CHANGES
    complete: bool = True

    def as_dict(self) -> dict:
        return {"from": self.verdict, "targets": list(self.targets), "facts_varied": self.facts,
                "found": [f.as_dict() for f in self.flips],
                "questions": [q.as_dict() for q in self.questions],
                "search": {"max_changes": self.max_changes, "screened": self.screened,
                           "engine_runs": self.engine_runs, "rejected_by_engine": self.rejected,
                           "complete": self.complete}}


def shown(value: Any) -> str:
    return "unknown" if value is None else show_value(value)


# -- what the conditions read -------------------------------------------------------------
def tests(program: Program) -> dict[str, list[tuple[str, Any]]]:
    """Every (operator, value) each fact is tested with, over all concepts and criteria."""
    out: dict[str, list[tuple[str, Any]]] = {}
    roots = [c.condition for c in program.concepts.values()] + [c.condition for c in program.criteria]
    for root in roots:
        for n in root.walk():
            if isinstance(n, Cmp):
                out.setdefault(n.fact, []).append((n.op, n.value))
            elif isinstance(n, OneOf):
                out.setdefault(n.fact, []).extend(("==", v) for v in n.values)
            elif isinstance(n, Has):
                out.setdefault(n.fact, []).append(("has", n.item))
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


# Which side of `x OP bound` to step to, besides the bound itself: -1 below, +1 above.
_SIDES = {">=": (-1,), ">": (1,), "<": (-1,), "<=": (1,), "==": (-1, 1), "!=": (-1, 1)}


def candidates(spec: FactSpec, current: Any, tested: list[tuple[str, Any]]) -> list[Any]:
    """Values of one fact worth trying: each lands on the other side of some test.

    For `n >= 2` on an int that is 2 and 1; for a float bound the bound and the bound
    plus or minus a small step; for a date the day itself and the day before or after."""
    t = spec.type
    values: list[Any] = []
    if t == "bool":
        values = [True, False]
    elif t == "enum":
        values = list(spec.values)
    elif t in ("int", "float", "date"):
        for op, bound in tested:
            for side in _SIDES.get(op, ()):
                if t == "int":
                    values += [int(bound), int(bound) + side] if bound == int(bound) \
                        else [math.floor(bound), math.ceil(bound)]
                elif t == "float":
                    step = abs(bound) * 1e-3 if bound else 1e-3
                    values += [bound, bound + side * step]
                else:
                    values += [bound, bound + dt.timedelta(days=side)]
    elif t == "string":
        literal = [v for _, v in tested if isinstance(v, str)]
        other = "other"
        while other in literal:
            other += "_"
        values = [*literal, other]
    elif t == "list":
        items = [v for op, v in tested if op == "has"]
        if current is None:
            values = [(), *((i,) for i in items)]
        else:
            have = set(current)
            values = [tuple(sorted(have ^ {i})) for i in items]
    out = []
    for v in values:
        if v != current and v not in out:
            out.append(v)
    return out


def distinct(program: Program, fact: str, values: list[Any]) -> dict[Any, list[Any]]:
    """Values grouped by how every test of `fact` treats them: representative -> equivalent values.

    Equivalent values give every node the same outcome in any context, so only the
    representative needs searching; the others are reported beside it."""
    leaves = [n for root in [c.condition for c in program.concepts.values()] + [c.condition for c in program.criteria]
              for n in root.walk() if isinstance(n, (Cmp, OneOf, Has)) and n.fact == fact]
    first: dict[tuple, Any] = {}
    out: dict[Any, list[Any]] = {}
    for v in values:
        outcomes = evaluate_nodes(program, {fact: v})
        signature = tuple(outcomes.get(n.id) for n in leaves)
        if signature in first:
            out[first[signature]].append(v)
        else:
            first[signature] = v
            out[v] = []
    return out


# -- the search ------------------------------------------------------------------------------
class _Runner:
    """Evaluates variants of one applicant: screening with Python, confirming with durable."""

    def __init__(self, program: Program, applicant: Applicant, as_of: str | None, durable: Any):
        self.program, self.applicant, self.as_of = program, applicant, as_of
        self.screen = Evaluator(program, "python")
        self.durable = durable if durable is not None and durable.engine_name == "durable" \
            else Evaluator(program, "durable")
        self.own_durable = self.durable is not durable
        self.engine_runs = 0

    def variant(self, changes: Iterable[Change]) -> Applicant:
        copy = dataclasses.replace(self.applicant, overrides=dict(self.applicant.overrides))
        return apply_overrides(copy, self.program, {c.fact: c.new for c in changes}, note=NOTE)

    def screened(self, changes: Iterable[Change]) -> Evaluation:
        return self.screen.evaluate(self.variant(changes), self.as_of, trace=False)

    def confirmed(self, changes: Iterable[Change]) -> Evaluation:
        self.engine_runs += 1
        return self.durable.evaluate(self.variant(changes), self.as_of, trace=False)

    def close(self) -> None:
        self.screen.close()
        if self.own_durable:
            self.durable.close()


def find_flips(program: Program, applicant: Applicant, as_of: str | None = None, durable: Any = None,
               max_changes: int = MAX_CHANGES, max_flips: int = MAX_FLIPS) -> FlipReport:
    """The minimal fact changes (up to `max_changes` at once) that flip the applicant's verdict.

    `durable` is an api.Evaluator on the durable engine to confirm with (one is made if not given)."""
    runner = _Runner(program, applicant, as_of, durable)
    try:
        return _search(runner, max_changes, max_flips)
    finally:
        runner.close()


def _search(runner: _Runner, max_changes: int, max_flips: int) -> FlipReport:
    program, applicant = runner.program, runner.applicant
    base = runner.confirmed(())
    targets = TARGETS[base.verdict]
    values = applicant.values(runner.as_of)
    blocking = {SELECTED: (NOT_MET, UNKNOWN), EXCLUDED: (MET, UNKNOWN)}
    facts: set[str] = set()
    for c, r in zip(program.criteria, base.criteria):
        if any(r.outcome in blocking[t] for t in targets):
            facts |= program.facts_read(c.condition)
    if base.verdict == UNDETERMINED:       # decide it by answering open questions, not by changing answers
        facts = {f for f in facts if f not in values}
    ordered = [f for f in program.facts if f in facts]
    tested = tests(program)
    options = {f: [Change(f, values.get(f), v, tuple(also)) for v, also in distinct(
        program, f, candidates(program.facts[f], values.get(f), tested.get(f, []))).items()] for f in ordered}
    ordered = [f for f in ordered if options[f]]
    report = FlipReport(base.verdict, targets, ordered, max_changes=max_changes)
    found: list[frozenset] = []
    for changes in _change_sets(ordered, options, max_changes):
        key = frozenset(changes)
        if any(f <= key for f in found):
            continue
        if report.screened >= MAX_SCREENED or len(report.flips) >= max_flips:
            report.complete = False
            break
        report.screened += 1
        if runner.screened(changes).verdict not in targets:
            continue
        ev = runner.confirmed(changes)
        if ev.verdict not in targets:
            report.rejected += 1
            continue
        found.append(key)
        confirmed = tuple(_confirm_alternatives(runner, changes, i, ev.verdict) for i in range(len(changes)))
        report.flips.append(Flip(confirmed, ev.verdict, ev.score, ev.reason, _moved(base, ev)))
    report.flips = merged(report.flips)
    if base.verdict == UNDETERMINED:
        report.questions = questions(runner, base, options)
    report.engine_runs = runner.engine_runs
    return report


def _change_sets(facts: list[str], options: dict, max_changes: int) -> Iterator[tuple]:
    """Candidate sets of changes, smallest first: 1 fact, then 2, ... up to `max_changes`."""
    for size in range(1, max_changes + 1):
        for combo in itertools.combinations(facts, size):
            yield from itertools.product(*(options[f] for f in combo))


def merged(flips: list[Flip]) -> list[Flip]:
    """Fold flips that differ only in the value of one fact (same verdict and score) into one,
    listing the other values as alternatives: `{x: a, y: b}` and `{x: a, y: c}` -> `{x: a, y: b or c}`."""
    out: list[Flip] = []
    for flip in flips:
        for kept in out:
            if (kept.verdict, kept.score) != (flip.verdict, flip.score) or \
                    [c.fact for c in kept.changes] != [c.fact for c in flip.changes]:
                continue
            differ = [i for i, (a, b) in enumerate(zip(kept.changes, flip.changes)) if a.new != b.new]
            if len(differ) == 1 and all(not c.also for j, c in enumerate(flip.changes) if j not in differ) \
                    and all(not c.also for j, c in enumerate(kept.changes) if j not in differ):
                i = differ[0]
                c = kept.changes[i]
                extra = (flip.changes[i].new, *flip.changes[i].also)
                kept.changes = kept.changes[:i] + (dataclasses.replace(c, also=c.also + extra),) + kept.changes[i + 1:]
                break
        else:
            out.append(flip)
    return out


def _confirm_alternatives(runner: _Runner, changes: tuple[Change, ...], i: int, verdict: str) -> Change:
    """Change i with only the equivalent values that the durable engine confirms give `verdict`."""
    c = changes[i]
    kept = tuple(v for v in c.also if runner.confirmed(
        changes[:i] + (dataclasses.replace(c, new=v, also=()),) + changes[i + 1:]).verdict == verdict)
    return dataclasses.replace(c, also=kept)


def _moved(base: Evaluation, ev: Evaluation) -> list[dict]:
    return [{"id": a.id, "kind": a.kind, "from": a.outcome, "to": b.outcome}
            for a, b in zip(base.criteria, ev.criteria) if a.outcome != b.outcome]


def questions(runner: _Runner, base: Evaluation, options: dict[str, list[Change]]) -> list[Question]:
    """Unknown facts ranked by how much answering them would settle (every answer run on durable)."""
    open_ids = [r.id for r in base.criteria if r.outcome == UNKNOWN]
    out = []
    for fact, changes in options.items():
        if not changes:
            continue
        settled_sets, answers = [], []
        for change in changes:
            ev = runner.confirmed((change,))
            settled_sets.append({r.id for r in ev.criteria if r.id in open_ids and r.outcome != UNKNOWN})
            answers.append((change.new, ev.verdict))
        always = set.intersection(*settled_sets)
        some = set.union(*settled_sets)
        out.append(Question(fact, [i for i in open_ids if i in always], [i for i in open_ids if i in some - always],
                            answers))
    order = list(runner.program.facts)
    out.sort(key=lambda q: (-q.decisive / len(q.answers), -len(q.settles), -len(q.may_settle), order.index(q.fact)))
    return out
