"""`eligibility history`: an applicant's path through the stages of a programme."""
from __future__ import annotations

import json
import os
from typing import Optional

import typer

from eligibility import api
from eligibility.core.errors import InputError, Problem
from eligibility.render.output import write_atomic
from eligibility.cli.app import AsOfOption, EngineOption, OutputOption, RulesOption, app, check_date, check_engine, \
    format_option, output_format

FORMATS = ("text", "json")
LATEST = "9999-12-31"


@app.command()
def history(
    profile: str = typer.Argument(..., metavar="PROFILE", help="Applicant profile (YAML)."),
    rules: Optional[str] = RulesOption,
    applicants: Optional[str] = typer.Option(None, "--applicants", "-a", metavar="DIR",
                                             help="The other applicants, who share each stage's quota "
                                                  "(default: the profile's directory)."),
    fmt: Optional[str] = format_option(FORMATS),
    output: Optional[str] = OutputOption,
    engine: str = EngineOption,
    as_of: Optional[str] = AsOfOption,
) -> None:
    """Show an applicant's path through the programme's stages: for each stage its date, verdict,
    score (when the stage has one) and reason, up to --as-of (default: every stage).

    Each stage is decided over its whole population, so the other applicants are read too
    (a rules file without stages is one stage)."""
    from eligibility.program.stages import run_stages
    from eligibility.render.stages import journey_dict, render_history
    fmt = output_format(fmt, output, FORMATS)
    as_of = check_date(as_of)
    path = rules or api.find_rules()
    program = api.load_rules(path, None, LATEST)       # the latest version lists the stages, if any
    if not program.stages and as_of:
        program = api.load_rules(path, None, as_of)
    folder = applicants or os.path.dirname(profile) or "."
    stage_dirs = {s.id for s in program.stages}
    if os.path.basename(os.path.normpath(folder)) in stage_dirs:     # a profile kept under its entry stage
        folder = os.path.dirname(os.path.normpath(folder)) or "."
    wanted = os.path.realpath(profile)
    result = run_stages(program, [folder], as_of, check_engine(engine))
    journey = next((j for j in result.journeys if os.path.realpath(j.path) == wanted), None)
    if journey is None:
        result = run_stages(program, [folder, profile], as_of, check_engine(engine))
        journey = next((j for j in result.journeys if os.path.realpath(j.path) == wanted), None)
    if journey is None:
        raise InputError(Problem(profile, 0, 0, "profile not found among the applicants"))
    if journey.error:
        api.load_profile(profile, program)        # a reading error: raised with its own line and column
        raise InputError(Problem(profile, 0, 0, journey.error.removeprefix(f"{journey.path}: ")))
    text = json.dumps(journey_dict(journey), indent=2, ensure_ascii=False) + "\n" if fmt == "json" \
        else render_history(journey)
    write_atomic(output, text) if output not in (None, "-") else typer.echo(text, nl=False)
