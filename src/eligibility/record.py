"""An evaluation as a stable, documented JSON-ready record (schema `eligibility.evaluation/1`)."""
from __future__ import annotations

import functools
import sys
from typing import Any

from . import __version__
from .evaluation import Evaluation
from .model import Program
from .trace import _jsonable, build_trace

SCHEMA = "eligibility.evaluation/1"


@functools.lru_cache(maxsize=None)   # reads package metadata from disk: once per process
def engine_version() -> str:
    try:
        from importlib.metadata import version
        return f"durable-rules {version('durable-rules')}"
    except Exception:
        return "durable-rules (version unknown)"


def program_info(p: Program) -> dict[str, Any]:
    """The rules behind a result: the file evaluated (a version of the program chosen by
    --as-of, or the file named), its hash, version label and effective date, and the rules
    file named on the command line (`rules_path`, `rules_sha256`) that chose it."""
    return {"id": p.id, "title": p.title, "path": p.path, "sha256": p.sha256, "version": p.version or None,
            "effective": p.effective or None, "rules_path": p.main_path or p.path,
            "rules_sha256": p.main_sha256 or p.sha256}


def evaluation_record(ev: Evaluation, trace: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """The per-applicant record shared by `check --format json` and the batch outputs."""
    p, a = ev.program, ev.applicant
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "applicant": {"id": a.id, "name": a.name, "lead": a.lead, "consortium": list(a.consortium),
                      "path": a.path, "sha256": a.sha256},
        "program": program_info(p),
        "engine": ev.engine,
        "versions": {"eligibility": __version__, "engine": engine_version(),
                     "python": sys.version.split()[0]},
        "as_of": ev.as_of,
        "verdict": ev.verdict,
        "reason": ev.reason,
        "score": ev.score,
        "score_max": ev.score_max,
        "threshold": p.decision.threshold,
        "missing": list(ev.missing),
        "gates_failed": ev.gates_failed,
        "criteria": [{"id": r.id, "title": r.title, "kind": r.kind, "outcome": r.outcome,
                      "points": r.points if r.kind == "scored" else None,
                      "awarded": r.awarded if r.kind == "scored" else None,
                      "missing": list(r.missing)} for r in ev.criteria],
        "parameters": {name: _jsonable(prm.value) for name, prm in p.parameters.items()},
        "overrides": {name: _jsonable(fv.value) for name, fv in a.overrides.items()},
        "parameter_overrides": {name: {"value": _jsonable(prm.value), "rules_value": _jsonable(prm.rules_value)}
                                for name, prm in p.parameters.items() if prm.overridden},
    }
    if command is not None:
        rec["command"] = command
    if trace:
        rec["trace"] = build_trace(ev)
    return rec
