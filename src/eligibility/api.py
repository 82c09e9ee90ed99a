"""The public Python API: what the CLI, the tests and notebooks call.

    from eligibility import api
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    evaluator = api.Evaluator(program)
    ev = evaluator.evaluate(api.load_profile("applicants/kt.yaml", program))
    ev.verdict, ev.reason
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Callable, Mapping, Sequence

from .closures import CompiledNodes
from .compiler import CompiledRuleset, compile_program
from .errors import EngineError, EnginesDisagree, InputError, Problem
from .evaluation import Assessor, Evaluation
from .expr import suggest
from .model import Applicant, Evidence, FactValue, Program, ProgramVersion, Source
from .paths import yaml_files
from .profile import _INVALID, UNKNOWN, convert_value, load_applicant
from .rulesfile import load_program

ENGINES = ("durable", "python", "both")
DEFAULT_RULES_DIR = "rules"


def load_rules(path: str, params: Mapping[str, Any] | None = None, as_of: str | None = None,
               read: Callable[[str], str] | None = None) -> Program:
    """Load and type-check a rules file; `params` overrides parameter values.

    Without `as_of`, the file is used as written. With `as_of` (ISO date), the version of the
    program in force on that date: the file itself from its `program.effective` date, or the
    latest of its `program.versions` that took effect on or before `as_of`. `read` gives a file's
    text (e.g. from git history); by default files are read from disk."""
    def load(p: str, prm: Mapping[str, Any] | None) -> Program:
        return load_program(p, prm, text=read(p) if read else None)

    if as_of is None:
        return load(path, params)
    main = load(path, None)
    chosen = version_in_force(main, as_of)
    if chosen is None:
        return load(path, params)
    program = load(chosen.path, params)
    program.family_facts = main.family_facts
    program.main_path, program.main_sha256 = main.path, main.sha256
    return program


def version_in_force(main: Program, as_of: str) -> ProgramVersion | None:
    """The later version in force on `as_of`, or None for the main file itself; InputError before the first."""
    if main.effective and as_of < main.effective:
        raise InputError(Problem(main.path, 0, 0, f"no version of program '{main.id}' is in force on {as_of}: "
                                                  f"the first takes effect on {main.effective}"))
    chosen = None
    for version in main.versions:
        if version.effective <= as_of:
            chosen = version
    return chosen


def find_rules(directory: str = DEFAULT_RULES_DIR) -> str:
    """The rules file to use when none is named: the only one in `directory`."""
    if not os.path.isdir(directory):
        raise InputError(Problem(directory, 0, 0, "no rules directory here: name a rules file with --rules"))
    files = sorted(rules_files(directory))
    if len(files) != 1:
        found = ", ".join(files) if files else "none"
        raise InputError(Problem(directory, 0, 0, f"expected exactly one rules file, found {found}: use --rules"))
    return files[0]


def rules_files(directory: str) -> list[str]:
    return yaml_files(directory, tests=False)


def load_profile(path: str, program: Program) -> Applicant:
    """Load a YAML applicant profile, checked against the program's fact schema."""
    return load_applicant(path, program)


def apply_overrides(applicant: Applicant, program: Program, settings: Mapping[str, Any],
                    note: str = "what-if override given on the command line") -> Applicant:
    """Override facts for one what-if run (`--set fact=value`); the trace marks them as overrides."""
    for name, raw in settings.items():
        spec = program.facts.get(name)
        if spec is None:
            raise InputError(Problem("--set", 0, 0, f"unknown fact '{name}'" + suggest(name, program.facts)))
        value = None if raw in (None, UNKNOWN) else convert_value(raw, spec)
        if value is _INVALID:
            allowed = f" (one of {', '.join(spec.values)})" if spec.values else ""
            raise InputError(Problem("--set", 0, 0, f"{name}={raw}: not a valid {spec.type}{allowed}"))
        evidence = Evidence(kind="analysis", note=note, source=Source(id="", title="--set override"))
        applicant.overrides[name] = FactValue(value=value, evidence=(evidence,))
    return applicant


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
            from .durable_engine import DurableEngine
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
        if self._engine is None:
            assessor, run = self.assessor, self._python.evaluate  # type: ignore[union-attr]
            out: list[Evaluation | EngineError] = []
            for applicant in applicants:
                known = applicant.values(as_of)
                outcomes = run(known)
                out.append(assessor.assess(applicant, assessor.key(outcomes), lambda o=outcomes: o, self.engine_name, as_of))
            return out
        if self.engine_name == "both":
            values = [a.values(as_of) for a in applicants]
        else:       # the encoder skips unknown (None) values: an applicant's bare values will do
            values = [a.plain_values() or a.values(as_of) for a in applicants]
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

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def check(profile_path: str, rules_path: str | None = None, engine: str = "durable",
          params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
          as_of: str | None = None) -> Evaluation:
    """Evaluate one profile file: the whole of `eligibility check` without the rendering."""
    program = load_rules(rules_path or find_rules(), params, as_of)
    applicant = load_profile(profile_path, program)
    if settings:
        apply_overrides(applicant, program, settings)
    return Evaluator(program, engine).evaluate(applicant, as_of)
