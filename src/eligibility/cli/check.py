"""`eligibility check`: one applicant, its verdict and the trace behind it."""
from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from eligibility import api
from eligibility.render.output import write_atomic
from eligibility.records.record import evaluation_record
from eligibility.cli.app import (AsOfOption, EngineOption, OutputOption, ParamOption, RulesOption, SetOption, app,
                                 check_date, check_engine, format_option, output_format, pairs, verdict_set)

FORMATS = ("text", "json", "markdown", "csv")


@app.command()
def check(
    profile: str = typer.Argument(..., metavar="PROFILE", help="Applicant profile (YAML), or - to read it from stdin."),
    rules: Optional[str] = RulesOption,
    fmt: Optional[str] = format_option(FORMATS),
    output: Optional[str] = OutputOption,
    engine: str = EngineOption,
    set_: Optional[List[str]] = SetOption,
    param: Optional[List[str]] = ParamOption,
    as_of: Optional[str] = AsOfOption,
    fail_on: Optional[str] = typer.Option(None, "--fail-on", metavar="VERDICTS",
                                          help="Exit 1 when the verdict is one of these (e.g. excluded,undetermined)."),
    flip: bool = typer.Option(False, "--flip", help="Also find the smallest fact changes that flip the verdict "
                              "(each confirmed on the durable engine), and for undetermined the questions to ask."),
    max_changes: int = typer.Option(3, "--max-changes", min=1, max=5, metavar="N", help="--flip: most facts changed at once."),
    applicants: Optional[str] = typer.Option(None, "--applicants", "-a", metavar="DIR",
                                             help="A programme in stages: the other applicants, who share each "
                                                  "stage's quota (default: the profile's directory)."),
) -> None:
    """Evaluate one applicant: verdict, reason, criteria and the full explanation trace.

    With --flip: the minimal sets of fact changes that turn excluded into selected (or
    selected into excluded, or decide an undetermined verdict), smallest first; apply one
    with --set to see it. JSON output gets a "flips" section.

    For a programme in stages (the version in force lists stages), the applicant's standing on the
    date: its journey through the stages, and its evaluation at the stage that judged it last.

    Exit status: 0 evaluated; 1 the verdict is listed in --fail-on; 2 bad input; 3 engine failure.
    """
    fmt = output_format(fmt, output, FORMATS)
    failing = verdict_set(fail_on)
    text = sys.stdin.read() if profile == "-" else None
    ev, standing = api.check_standing("<stdin>" if profile == "-" else profile, rules, engine=check_engine(engine),
                                      params=pairs(param, "--param"), settings=pairs(set_, "--set"),
                                      as_of=check_date(as_of), labels=("--param", "--set"), profile_text=text,
                                      applicants=applicants)
    rec = evaluation_record(ev, trace=True, command=["eligibility", *sys.argv[1:]])
    if standing is not None:
        from eligibility.program.stages import standing_dict
        rec["stage"] = standing_dict(standing)
    if flip:
        from eligibility.analysis.counterfactual import find_flips
        rec["flips"] = find_flips(ev.program, ev.applicant, ev.as_of, max_changes=max_changes).as_dict()
    if fmt == "json":
        write_atomic(output, json.dumps(rec, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        from eligibility.render.csvout import check_csv
        write_atomic(output, check_csv(rec))
    elif fmt == "markdown":
        from eligibility.render.flips import render_flips_markdown
        from eligibility.render.markdown import render_check
        write_atomic(output, render_check(rec) + (render_flips_markdown(rec["flips"]) if flip else ""))
    else:
        from eligibility.render.text import render_check
        from eligibility.cli.console import console_for
        with console_for(output) as console:
            render_check(rec, console)
            if flip:
                from eligibility.render.flips import render_flips
                render_flips(rec["flips"], console)
    if (rec["stage"]["final_verdict"] if standing is not None else rec["verdict"]) in failing:
        raise typer.Exit(1)
