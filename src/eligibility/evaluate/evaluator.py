"""Evaluating applicants against one program: compile once, run an engine, assess the outcomes."""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Mapping, Sequence

from eligibility.core.errors import EngineError, EnginesDisagree
from eligibility.engine.compiler import CompiledRuleset, compile_program
from eligibility.engine.python import CompiledNodes
from eligibility.evaluate.assess import Assessor, Evaluation
from eligibility.language.model import Applicant, Program
from eligibility.language.numeric import evaluation_date, with_today

ENGINES = ("durable", "python", "both")


class Evaluator:
    """Evaluates applicants against one program. Compiles once; one engine per process."""

    def __init__(self, program: Program, engine: str = "durable"):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}")
        self.program = program
        self.engine_name = engine
        self.compiled: CompiledRuleset = compile_program(program)
        self._engine = None
        self._python = CompiledNodes(program) if engine in ("python", "both") else None
        self.assessor = Assessor(program)
        if engine in ("durable", "both"):
            from eligibility.engine.durable import DurableEngine
            self._engine = DurableEngine(self.compiled)

    def outcomes(self, values: Mapping[str, Any], keep_messages: bool = True):
        """Node outcomes for known fact values: (outcomes, durable firings or None)."""
        if self._engine is None:
            return self._python.evaluate(values), None  # type: ignore[union-attr]
        firings = self._engine.run(self.compiled.encode(values), keep_messages)
        outcomes = self.compiled.outcomes_of_rules(firings.rules)
        if self.engine_name == "both":
            self._compare(values, outcomes)
        return outcomes, firings

    def _compare(self, values: Mapping[str, Any], outcomes: Mapping[int, bool | None]) -> None:
        """With engine "both": stop on the first node where durable and python disagree."""
        expected = self._python.evaluate(values)  # type: ignore[union-attr]
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

    def evaluate_all(self, applicants: Sequence[Applicant], as_of: str | None = None,
                     trace: bool = True) -> list[Evaluation | EngineError]:
        """The evaluations of several applicants, in order, with an EngineError in place of any
        applicant the engine fails on (the others are still evaluated). The durable engine runs
        for all of them back to back, then the rest of the work is done: for a few dozen
        applicants at a time that is faster than one by one (docs/performance.md)."""
        dated = self._dated(as_of)
        if self._engine is None:
            assessor, run = self.assessor, self._python.evaluate  # type: ignore[union-attr]
            out: list[Evaluation | EngineError] = []
            for applicant in applicants:
                known = dated(applicant.values(as_of))
                outcomes = run(known)
                out.append(assessor.assess(applicant, assessor.key(outcomes), lambda o=outcomes: o, self.engine_name, as_of))
            return out
        if self.engine_name == "both":
            values = [dated(a.values(as_of)) for a in applicants]
        else:       # the encoder skips unknown (None) values: an applicant's bare values will do
            values = [dated(a.plain_values() or a.values(as_of)) for a in applicants]
        runs = self._engine.run_all(list(map(self.compiled.encode, values)), trace)
        # the fired rules determine the node outcomes, so they are the memo key (one string: rule
        # names hold no newline)
        assess, outcomes_of, engine = self.assessor.assess, self.compiled.outcomes_of_rules, self.engine_name
        out: list[Evaluation | EngineError] = []
        for applicant, known, firings in zip(applicants, values, runs):
            if isinstance(firings, EngineError):
                out.append(firings)
                continue
            rules = firings.rules
            ev = assess(applicant, "\n".join(rules), partial(outcomes_of, rules), engine, as_of, firings)
            if engine == "both":
                self._compare(known, ev.outcomes)
            out.append(ev)
        return out

    def _dated(self, as_of: str | None) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
        """Adds the evaluation date to the values when a condition reads `today`; else the identity."""
        if not self.program.reads_today:
            return lambda values: values
        return partial(with_today, day=evaluation_date(as_of))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
