"""`eligibility validate`: schema and semantic checks of rules files and profiles."""
from __future__ import annotations

import json
import os
from typing import List, Optional

import typer

from eligibility import api
from eligibility.core.errors import InputError
from eligibility.analysis.validate import validate as run_validate
from eligibility.cli.app import app, choice


@app.command()
def validate(
    paths: Optional[List[str]] = typer.Argument(None, help="Rules files, profiles, or directories of them "
                                                "(default: rules/ and applicants/)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar=choice(("text", "json")),
                            help="text, or json (a list of objects with path, line, col, severity and message)."),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
) -> None:
    """Check rules files and applicant profiles, reporting every problem at once as file:line:col.

    Rules: unknown and unused facts, type mismatches, duplicate ids, undefined parameters,
    conditions that can never be true or never be false. Profiles: facts not in the schema,
    values of the wrong type, facts without evidence. Profiles are checked against the rules
    files given (matched on the program id), else the only rules file in ./rules.

    Exit status: 0 no errors (warnings allowed unless --strict); 1 warnings with --strict;
    2 errors found (bad input) or bad usage.
    """
    if fmt not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    if not paths:
        paths = [p for p in (api.DEFAULT_RULES_DIR, "applicants") if os.path.isdir(p)]
    report = run_validate(paths, default_rules=_default_rules(paths))
    if fmt == "json":
        print(json.dumps([p.as_dict() for p in report.problems], ensure_ascii=False, indent=2))
    else:
        for problem in report.problems:
            print(problem)
        typer.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in {report.files} file(s)",
                   err=True)
    if report.errors:
        raise typer.Exit(2)
    if strict and report.warnings:
        raise typer.Exit(1)


def _default_rules(paths: List[str]) -> Optional[str]:
    """The rules file for profiles when none is given: the only one in ./rules, if there is one."""
    try:
        return api.find_rules()
    except InputError:
        return None
