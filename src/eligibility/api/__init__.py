"""The public Python API: what the CLI, the server, the tests and notebooks call.

    from eligibility import api
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    evaluator = api.Evaluator(program)
    ev = evaluator.evaluate(api.load_profile("applicants/kt.yaml", program))
    ev.verdict, ev.reason
"""
from __future__ import annotations

from typing import Any, Mapping

from eligibility.core.errors import EngineError, EnginesDisagree, InputError, Problem
from eligibility.evaluate.assess import Evaluation
from eligibility.evaluate.evaluator import ENGINES, Evaluator
from eligibility.language.model import Applicant, Program
from eligibility.language.profile import apply_overrides, load_applicant
from eligibility.language.versions import DEFAULT_RULES_DIR, find_rules, load_rules, rules_files, version_in_force


def load_profile(path: str, program: Program) -> Applicant:
    """Load a YAML applicant profile, checked against the program's fact schema."""
    return load_applicant(path, program)


def check(profile_path: str, rules_path: str | None = None, engine: str = "durable",
          params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
          as_of: str | None = None, labels: tuple[str, str] = ("parameter override", "what-if")) -> Evaluation:
    """Evaluate one profile file: the whole of `eligibility check` without the rendering.
    `labels` name where parameters and facts were overridden, in error messages and the trace."""
    program = load_rules(rules_path or find_rules(), params, as_of, params_label=labels[0])
    applicant = load_profile(profile_path, program)
    if settings:
        apply_overrides(applicant, program, settings, label=labels[1])
    return Evaluator(program, engine).evaluate(applicant, as_of)
