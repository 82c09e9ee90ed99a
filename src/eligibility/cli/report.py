"""`eligibility report`: one self-contained HTML file with the decision, charts and every trace."""
from __future__ import annotations

import datetime as dt
import os
import shlex
import time
from typing import List, Optional

import typer

from eligibility import api
from eligibility.core.errors import InputError, Problem
from eligibility.evaluate.points import finite
from eligibility.language.model import Program
from eligibility.render.output import atomic_writer
from eligibility.records.record import program_info
from eligibility.evaluate.trace import source_dict
from eligibility.cli.app import AsOfOption, EngineOption, ParamOption, RulesOption, app, check_date, check_engine, pairs

DEFAULT_APPLICANTS = "applicants"


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
    from eligibility.render.html import stream_report
    from eligibility.render.report_spool import RecordSpool

    rules_path = rules or api.find_rules()
    params = pairs(param, "--param")
    as_of = check_date(as_of)
    program = api.load_rules(rules_path, params, as_of, params_label="--param")
    if program.stages:
        raise InputError(Problem(program.path, 0, 0, f"the HTML report does not show a programme in stages yet "
                                                     f"(version {program.version or program.id}): use `eligibility "
                                                     f"batch --as-of DATE` for its state and `eligibility check "
                                                     f"PROFILE --as-of DATE` for one applicant's standing"))
    paths = list(paths or [DEFAULT_APPLICANTS])
    from eligibility.program.batch import BatchOptions, errors_as_problems, run_batch   # here: keeps start-up short
    from eligibility.records.record import RecordOptions
    # records go to a temporary file as they come and the page is written a piece at a time:
    # memory stays flat however many applicants there are
    with RecordSpool() as records:
        options = BatchOptions(engine=check_engine(engine), as_of=as_of, records=RecordOptions(trace=True))
        result = run_batch(program, paths, options, records)
        if result.errors:
            raise InputError(errors_as_problems(result))
        command = reproduce_command(paths, rules_path, output, engine, param or [], as_of)
        with atomic_writer(output) as fh:
            for piece in stream_report(records, result.decision, program_summary(program), command=command,
                                       generated=generation_time()):
                fh.write(piece)
    if output != "-":
        counts = ", ".join(f"{n} {v}" for v, n in result.decision.counts.items() if n and v != "total")
        typer.echo(f"wrote {output}: {len(records)} applicants ({counts})", err=True)


def program_summary(program: Program) -> dict:
    """What the report header and sources list need from the program, as plain data."""
    return {**program_info(program), "authority": program.authority, "dates": dict(program.dates),
            "threshold": program.decision.threshold, "quota": program.decision.quota,
            "sources": [source_dict(s) for s in program.sources.values()],
            "criteria": [{"id": c.id, "title": c.title, "kind": c.kind,
                          "points": finite(c.points) if c.kind == "scored" else None} for c in program.criteria]}


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
