"""The public Python API: what the CLI, the server, the tests and notebooks call.

    from eligibility import api
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    evaluator = api.Evaluator(program)
    ev = evaluator.evaluate(api.load_profile("applicants/kt.yaml", program))
    ev.verdict, ev.reason
"""
from __future__ import annotations

from typing import Any, Mapping

from eligibility.core.errors import EngineError, EnginesDisagree, InputError, Problem, Problems
from eligibility.evaluate.assess import Evaluation
from eligibility.evaluate.evaluator import ENGINES, Evaluator
from eligibility.evaluate.trace import jsonable
from eligibility.language.model import Applicant, Program
from eligibility.language.profile import applicant_from_data, apply_overrides, load_applicant
from eligibility.language.sources import MemorySource
from eligibility.language.versions import DEFAULT_RULES_DIR, find_rules, load_rules, rules_files, version_in_force


def load_profile(path: str, program: Program, text: str | None = None) -> Applicant:
    """Load a YAML applicant profile (its `text` if given, reported as `path`), checked against the
    program's fact schema."""
    return load_applicant(path, program, text)


def profile_from_dict(data: Mapping[str, Any], program: Program, name: str = "<dict>") -> Applicant:
    """An applicant from a plain dict: `{"id", "name", "facts": {fact: value or {"value", "evidence"}}}`,
    checked like a file (raises InputError listing every problem, named `name`)."""
    import hashlib
    import json
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return profile_from_data(dict(data), program, name, digest)


def evaluate_profile(profile: Mapping[str, Any], rules: str | Program | None = None, engine: str = "durable",
                     as_of: str | None = None) -> Evaluation:
    """Evaluate a profile given as a dict against `rules` (a rules file, a loaded Program, or the
    only rules file in ./rules): `ev.verdict`, `ev.reason`, `ev.score`, `ev.criteria`."""
    program = rules if isinstance(rules, Program) else load_rules(rules or find_rules(), None, as_of)
    return Evaluator(program, engine).evaluate(profile_from_dict(profile, program), as_of)


def record(ev: Evaluation, trace: bool = True) -> dict[str, Any]:
    """The evaluation as the JSON-ready record of `check --format json` (with basis and trace)."""
    return evaluation_record(ev, trace=trace)


def check(profile_path: str, rules_path: str | None = None, engine: str = "durable",
          params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
          as_of: str | None = None, labels: tuple[str, str] = ("parameter override", "what-if"),
          profile_text: str | None = None) -> Evaluation:
    """Evaluate one profile file: the whole of `eligibility check` without the rendering.
    `labels` name where parameters and facts were overridden, in error messages and the trace;
    `profile_text`, when given, is the profile's YAML (read from stdin), named `profile_path`."""
    return check_standing(profile_path, rules_path, engine, params, settings, as_of, labels, profile_text)[0]


def check_standing(profile_path: str, rules_path: str | None = None, engine: str = "durable",
                   params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
                   as_of: str | None = None, labels: tuple[str, str] = ("parameter override", "what-if"),
                   profile_text: str | None = None, applicants: str | None = None) -> tuple[Evaluation, Any]:
    """`check` with the applicant's standing in a programme in stages: (the evaluation, the
    `program.stages.Standing` or None). When the version in force lists stages, the evaluation is
    the one at the stage that judged the applicant last (its rules, its date), and the standing
    holds its journey, decided with the other applicants of `applicants` (default: the profile's
    directory). Overrides (--param, --set) and a profile from stdin are refused there: each stage
    is decided by its own rules over the files of its whole population."""
    program = load_rules(rules_path or find_rules(), params, as_of, params_label=labels[0])
    if program.stages:
        from eligibility.program.stages import refuse_overrides, standing_of
        refuse_overrides(program, profile_path, [("parameter overrides", params), ("fact overrides", settings),
                                                 ("a profile from stdin", profile_text is not None)])
        standing = standing_of(program, profile_path, applicants, as_of, engine)
        return standing.evaluation, standing
    applicant = load_applicant(profile_path, program, profile_text)
    if settings:
        apply_overrides(applicant, program, settings, label=labels[1])
    return Evaluator(program, engine).evaluate(applicant, as_of), None


def profile_from_data(data: Any, program: Program, path: str, digest: str) -> Applicant:
    """An applicant profile given as data (e.g. JSON), checked against the program's fact schema
    like a YAML profile but without requiring evidence; InputError lists every problem."""
    problems = Problems(path)
    applicant = applicant_from_data(data, program, path, digest, problems, require_evidence=False)
    problems.raise_if_any()
    assert applicant is not None
    return applicant


def parse_document(path: str, text: str) -> Any:
    """YAML (or JSON) text as data that remembers where each value was, so that problems found in
    it are reported at their line and column (reported as `path`)."""
    from eligibility.language.yamlsafe import load_yaml
    return load_yaml(path, text)


def find_flips(program: Program, applicant: Applicant, as_of: str | None = None, durable: Any = None,
               max_changes: int = 3) -> dict[str, Any]:
    """The smallest fact changes that flip the applicant's verdict (`check --flip`), as JSON-ready data."""
    from eligibility.analysis.counterfactual import find_flips as search
    return search(program, applicant, as_of, durable=durable, max_changes=max_changes).as_dict()


def compare(old: Program, new: Program, paths: list[str], engine: str = "durable",
            old_as_of: str | None = None, new_as_of: str | None = None,
            old_set: Mapping[str, Any] | None = None, new_set: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The impact of a rules change on a set of profiles (`eligibility diff`), as JSON-ready data;
    `old_set` / `new_set` set facts of every applicant on that side (what-if)."""
    from eligibility.analysis.rulediff import FactSettings, compare as rulediff
    return rulediff(old, new, paths, engine, old_as_of, new_as_of,
                    FactSettings(old_set or {}), FactSettings(new_set or {}))


def replay_record(record: dict) -> dict[str, Any]:
    """Re-run one evaluation record (`eligibility replay`): whether the result is identical, and how not."""
    from eligibility.analysis.replay import replay_record as rerun
    result, _ = rerun(record)
    return result.as_dict()


def parameter_patch(program: Program, text: str, values: Mapping[str, Any], path: str) -> str:
    """A unified diff (for `git apply` or `patch -p1`) that sets parameter values in the rules text."""
    from eligibility.language.edit import set_parameters, unified_patch
    return unified_patch(path, text, set_parameters(program, text, values))


def evaluation_record(ev: Evaluation, trace: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """The record `check --format json` writes (schema eligibility.evaluation/1)."""
    from eligibility.records.record import evaluation_record as record
    return record(ev, trace=trace, command=command)


# The stable public names: kept across releases (others may change without notice).
__all__ = [
    "DEFAULT_RULES_DIR", "ENGINES", "Applicant", "EngineError", "EnginesDisagree", "Evaluation", "Evaluator",
    "InputError", "Problem", "Program", "check", "evaluate_profile", "find_rules", "load_profile", "load_rules",
    "profile_from_dict", "record", "rules_files", "version_in_force", "check_standing",
    # used by the service
    "MemorySource", "compare", "evaluation_record", "find_flips", "jsonable", "parameter_patch", "parse_document",
    "profile_from_data", "replay_record",
]
