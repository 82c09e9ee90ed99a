"""Evaluating applicants against one program: compile once, run an engine, assess the outcomes."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

from eligibility.core.errors import EngineError, EnginesDisagree
from eligibility.engine import CompiledRuleset, EngineResult, compile_program, open_engine
from eligibility.evaluate.assess import Assessment, Evaluation, assess, explain, standing
from eligibility.evaluate.memo import Memo
from eligibility.evaluate.points import Points, criterion_points, has_points_expressions
from eligibility.language.model import Applicant, Program
from eligibility.language.standing import VerdictBasis, verdict_basis
from eligibility.language.numeric import evaluation_date, with_today

ENGINES = ("durable", "python", "both")


class Evaluator:
    """Evaluates applicants against one program. Compiles once (which also checks the engine's
    limits); one engine per process. `both` runs durable and checks every node against the
    direct Python evaluator, stopping on the first disagreement (an audit mode)."""

    def __init__(self, program: Program, engine: str = "durable"):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}")
        self.program = program
        self.engine_name = engine
        self.compiled: CompiledRuleset = compile_program(program)
        self._engine = open_engine(program, "python" if engine == "python" else "durable", self.compiled)
        self._audit = open_engine(program, "python") if engine == "both" else None
        # walks of every condition and points formula: once, not for every group of applicants
        self._reads_today = program.reads_today
        self._scoring = has_points_expressions(program)

    def run(self, values: Mapping[str, Any], trace: bool = False) -> EngineResult:
        """The engine's result for one applicant's known fact values; EngineError if it fails."""
        (result,) = self._engine.run_all([values], trace)
        if isinstance(result, EngineError):
            raise result
        if self._audit is not None:
            self._compare(values, result.outcomes())
        return result

    def _compare(self, values: Mapping[str, Any], outcomes: Mapping[int, bool | None]) -> None:
        (expected,) = self._audit.run_all([values])  # type: ignore[union-attr]
        expected = expected.outcomes()
        diff = sorted(n for n in expected if expected[n] != outcomes.get(n))
        if diff:
            raise EnginesDisagree(f"engines disagree on node(s) {diff[:5]}: durable "
                                  f"{[outcomes.get(n) for n in diff[:5]]}, python {[expected[n] for n in diff[:5]]}")

    def evaluate(self, applicant: Applicant, as_of: str | None = None, trace: bool = True) -> Evaluation:
        """One applicant's evaluation; EngineError if the engine fails on it."""
        (result,) = self.evaluate_all([applicant], as_of, trace)
        if isinstance(result, EngineError):
            raise result
        return result

    def evaluate_all(self, applicants: Sequence[Applicant], as_of: str | None = None, trace: bool = True,
                     memo: Memo | None = None, today: dt.date | None = None) -> list[Evaluation | EngineError]:
        """The evaluations of several applicants, in order, with an EngineError in place of any
        applicant the engine fails on (the others are still evaluated). The engine runs for all
        of them back to back, then the rest of the work is done: for a few dozen applicants at a
        time that is faster than one by one (docs/performance.md). `memo` (a batch's) reuses
        assessments and reasons between applicants with the same outcomes. `today`: the date
        `today` stands for in rules that read it (default: evaluation_date(as_of), the day of the
        call when there is no as-of date); a run fixes it once, so that every applicant is judged
        on the same day."""
        program, engine, audit = self.program, self.engine_name, self._audit
        scoring = self._scoring
        day = (today or evaluation_date(as_of)) if self._reads_today else None
        values = [a.values(as_of) if day is None else with_today(a.values(as_of), day) for a in applicants]
        out: list[Evaluation | EngineError] = []
        for applicant, known, result in zip(applicants, values, self._engine.run_all(values, trace)):
            if isinstance(result, EngineError):
                out.append(result)
                continue
            points = criterion_points(program, known) if scoring else None
            if memo is None:
                outcomes = result.outcomes()
                a = assess(program, outcomes, points)
                bare_basis = None
            else:   # equal engine keys have equal outcomes; computed points are part of the assessment
                # too, as written: repr keeps 7 and 7.0 (equal numbers, different texts) apart
                key = result.key if points is None else (result.key, tuple(map(repr, points.values())))
                outcomes, a, bare_basis = memo.get("assessment", key, _assessed, program, result, points, memo)
            if audit is not None:
                self._compare(known, outcomes)
            reason = a.reason or _reason(a, applicant, known, as_of, day, memo)
            if bare_basis is not None and applicant.described_by_values:
                basis = bare_basis              # for bare values it depends on the assessment alone
            else:
                basis = standing(program, a, applicant, as_of)
            out.append(Evaluation(program, applicant, engine, as_of, outcomes, a, reason, basis,
                                  result.firings() if trace else (), day))
        return out

    def close(self) -> None:
        for engine in (self._engine, self._audit):
            if engine is not None:
                engine.close()
        self._audit = None


def _assessed(program: Program, result: EngineResult, points: Mapping[str, Points] | None,
              memo: Memo) -> tuple[dict, Assessment, VerdictBasis]:
    """The outcomes, their assessment, and its standing for an applicant described by its values
    (which depends on the verdict and the criteria's outcomes alone: far fewer than the outcome sets)."""
    outcomes = result.outcomes()
    a = assess(program, outcomes, points)
    return outcomes, a, memo.get("verdict basis", (a.verdict, a.outcomes, a.published_by), verdict_basis,
                                 program, a.verdict, a.outcomes, (), a.published_by)


def _reason(a: Assessment, applicant: Applicant, known: Mapping[str, Any], as_of: str | None,
            day: dt.date | None, memo: Memo | None) -> str:
    """A failed gate's reason; shared through the memo between applicants described by their
    values alone (the values it names, as written: 1, 1.0 and -0.0 are equal numbers with
    different texts)."""
    if memo is None or not applicant.described_by_values:
        return explain(a, applicant, as_of, day)
    named = tuple(map(repr, map(known.get, a.reason_facts)))
    return memo.get("reason", (a, named, day), explain, a, applicant, as_of, day)
