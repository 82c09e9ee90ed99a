"""`eligibility diff`: which applicants a rule change moves, and because of which edit."""
from __future__ import annotations

import json
from typing import List, Optional

import typer

from eligibility.render.output import write_atomic
from eligibility.cli.app import (EngineOption, OutputOption, RulesOption, app, check_date, check_engine,
                                 format_option, output_format, pairs)

FORMATS = ("text", "json", "markdown", "csv")


@app.command()
def diff(
    profiles: Optional[List[str]] = typer.Argument(None, metavar="PROFILES...", help="Profiles or directories (default: applicants/)."),
    old: Optional[str] = typer.Option(None, "--old", metavar="RULES", help="The rules before the change: a file, or git:REV:path "
                                      "(default: --rules, else the only rules file in ./rules)."),
    new: Optional[str] = typer.Option(None, "--new", metavar="RULES", help="The rules after the change (default: the same as --old)."),
    rules: Optional[str] = RulesOption,
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE", help="Evaluate the old side as of this date (YYYY-MM-DD): "
                                        "the rules version in force then and the facts known then."),
    vs_as_of: Optional[str] = typer.Option(None, "--vs-as-of", metavar="DATE", help="Evaluate the new side as of this date "
                                           "(default: the --as-of date)."),
    fmt: Optional[str] = format_option(FORMATS),
    output: Optional[str] = OutputOption,
    engine: str = EngineOption,
    fail_on_flip: bool = typer.Option(False, "--fail-on-flip", help="Exit 1 when some applicant's verdict changes."),
    param: Optional[List[str]] = typer.Option(None, "--param", metavar="NAME=VALUE", help="Override a rule parameter on the new side, as "
                                              "name=value (repeatable): diff --param min_cofinancing=0.4 compares "
                                              "the rules as written with that change."),
    old_param: Optional[List[str]] = typer.Option(None, "--old-param", metavar="NAME=VALUE", help="Override a rule parameter on the old "
                                                  "side, as name=value (repeatable)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", metavar="FACT=VALUE", help="What-if: set a fact of every applicant on "
                                             "the new side, as fact=value (repeatable): diff --set innovation=5."),
    old_set: Optional[List[str]] = typer.Option(None, "--old-set", metavar="FACT=VALUE", help="Set a fact of every applicant on the "
                                                "old side, as fact=value (repeatable)."),
) -> None:
    """Compare every applicant under two versions of the rules, or at two dates.

    For each applicant: verdict (after ranking and quota), score and rank, old and new. Verdict
    changes come first, each attributed to the criteria whose outcome changed (before/after) and
    the parameters or edits behind them.

    Example: eligibility diff --old git:HEAD:rules/sovereign-ai-2025.yaml --new rules/sovereign-ai-2025.yaml

    Across dates: eligibility diff --as-of 2025-08-04 --vs-as-of 2026-01-15 compares the same rules
    file on two dates; each change is attributed to the rule version in force (criteria added,
    removed or edited) and to the new evidence (facts whose value changed between the dates).

    What-if: eligibility diff --param quota=4 compares the rules with and without the change
    (--old-param changes the old side); eligibility diff --set cofinancing_share=0.5 compares every
    applicant as is and with that fact set (--old-set sets it on the old side).

    Exit status: 0 compared; 1 with --fail-on-flip a verdict changed; 2 bad input (invalid
    profiles are listed as errors); 3 engine failure.
    """
    fmt = output_format(fmt, output, FORMATS)
    from eligibility.analysis.rulediff import FactSettings, compare, load_rules_ref, profile_paths
    from eligibility import api
    old_date = check_date(as_of)
    new_date = check_date(vs_as_of) if vs_as_of else old_date
    old_spec = old or rules or api.find_rules()
    new_spec = new or old_spec
    old_program = load_rules_ref(old_spec, old_date, pairs(old_param, "--old-param"), "--old-param")
    new_program = load_rules_ref(new_spec, new_date, pairs(param, "--param"), "--param")
    if old_program.stages or new_program.stages:
        from eligibility.program.stages import refuse_overrides
        refuse_overrides(new_program if new_program.stages else old_program, new_spec,
                         [("parameter overrides (--param, --old-param)", (param or []) + (old_param or [])),
                          ("fact settings (--set, --old-set)", (set_ or []) + (old_set or []))])
    report = compare(old_program, new_program,
                     profile_paths(profiles or ["applicants"], old_program, new_program), check_engine(engine),
                     old_date, new_date,
                     FactSettings(pairs(old_set, "--old-set"), "--old-set"), FactSettings(pairs(set_, "--set"), "--set"))
    if fmt == "json":
        write_atomic(output, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        from eligibility.render.csvout import diff_csv
        write_atomic(output, diff_csv(report))
    elif fmt == "markdown":
        from eligibility.render.rulediff import render_diff_markdown
        write_atomic(output, render_diff_markdown(report))
    else:
        from eligibility.render.rulediff import render_diff
        from eligibility.cli.console import console_for
        with console_for(output) as console:
            render_diff(report, console)
    if any(a[side]["error"] for a in report["applicants"] for side in ("old", "new")):
        raise typer.Exit(2)             # invalid profiles: listed as errors, as `batch` does
    if fail_on_flip and report["summary"]["flipped"]:
        raise typer.Exit(1)
