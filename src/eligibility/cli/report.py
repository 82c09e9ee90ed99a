"""`eligibility report`: one self-contained HTML file with the decision, charts and every trace."""
from __future__ import annotations

import datetime as dt
import os
import shlex
import time
from typing import Iterator, List, Optional

import typer

from .. import api
from ..decision import decide, entry_from_record
from ..errors import InputError, Problem
from ..model import Program
from ..output import atomic_writer
from ..record import evaluation_record
from ..trace import source_dict
from .app import AsOfOption, EngineOption, ParamOption, RulesOption, app, check_date, check_engine, pairs

DEFAULT_APPLICANTS = "applicants"
PROFILE_SUFFIXES = (".yaml", ".yml")


@app.command()
def report(
    paths: Optional[List[str]] = typer.Argument(None, help="Profile files or directories of them (default: applicants/)."),
    rules: Optional[str] = RulesOption,
    output: str = typer.Option("report.html", "--output", "-o", help="HTML file to write (atomically); - for stdout."),
    engine: str = EngineOption,
    param: Optional[List[str]] = ParamOption,
    as_of: Optional[str] = AsOfOption,
) -> None:
    """Write one self-contained HTML report: ranked decision, criteria matrix, score chart, traces, sources.

    The file makes no network requests (inline CSS and SVG, no scripts) and prints in black and white.
    Exit status: 0 written; 2 bad input; 3 engine failure.
    """
    from ..render.html import render_report

    rules_path = rules or api.find_rules()
    params = pairs(param, "--param")
    as_of = check_date(as_of)
    program = api.load_rules(rules_path, params, as_of)
    paths = list(paths or [DEFAULT_APPLICANTS])
    records = evaluate_profile_files(paths, program, check_engine(engine), as_of)
    decision = decide(program, [entry_from_record(i, rec) for i, rec in enumerate(records)])
    command = reproduce_command(paths, rules_path, output, engine, param or [], as_of)
    html = render_report(records, decision, program_summary(program), command=command,
                         generated=generation_time())
    with atomic_writer(output) as fh:
        fh.write(html)


def evaluate_profile_files(paths: list[str], program: Program, engine: str = "durable",
                           as_of: str | None = None) -> list[dict]:
    """Evaluation records (with traces) of every YAML profile in `paths`, in path order.

    A stand-in for the batch pipeline: loads each profile with api.load_profile, evaluates it with one
    api.Evaluator and keeps record.evaluation_record. Problems in any profile are reported together."""
    files = list(profile_files(paths))
    problems: list[Problem] = []
    records = []
    evaluator = api.Evaluator(program, engine)
    try:
        for path in files:
            try:
                applicant = api.load_profile(path, program)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            records.append(evaluation_record(evaluator.evaluate(applicant, as_of), trace=True))
    finally:
        evaluator.close()
    if problems:
        raise InputError(problems)
    return records


def profile_files(paths: list[str]) -> Iterator[str]:
    """The profile files named, and the YAML files directly inside the directories named (sorted)."""
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(PROFILE_SUFFIXES) and not name.startswith("."):
                    yield os.path.join(path, name)
        elif os.path.exists(path):
            yield path
        else:
            raise InputError(Problem(path, 0, 0, "no such file or directory"))


def program_summary(program: Program) -> dict:
    """What the report header and sources list need from the program, as plain data."""
    return {"id": program.id, "title": program.title, "authority": program.authority, "path": program.path,
            "sha256": program.sha256, "version": program.version or None, "dates": dict(program.dates),
            "threshold": program.decision.threshold, "quota": program.decision.quota,
            "sources": [source_dict(s) for s in program.sources.values()],
            "criteria": [{"id": c.id, "title": c.title, "kind": c.kind,
                          "points": c.points if c.kind == "scored" else None} for c in program.criteria]}


def reproduce_command(paths: list[str], rules: str, output: str, engine: str, params: list[str],
                      as_of: str | None) -> str:
    """The shell command that writes this report again."""
    args = ["eligibility", "report", *paths, "--rules", rules]
    if engine != "durable":
        args += ["--engine", engine]
    for p in params:
        args += ["--param", p]
    if as_of:
        args += ["--as-of", as_of]
    args += ["-o", output]
    return shlex.join(args)


def generation_time() -> str:
    """UTC time of generation; SOURCE_DATE_EPOCH (reproducible builds) fixes it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else time.time()
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
