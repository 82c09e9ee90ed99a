"""`eligibility diff`: which applicants a rule change moves, and because of which edit."""
from __future__ import annotations

import json
from typing import List, Optional

import typer

from ..output import write_atomic
from .app import EngineOption, app, check_engine

FORMATS = ("text", "json", "markdown")


@app.command()
def diff(
    profiles: Optional[List[str]] = typer.Argument(None, help="Profiles or directories (default: applicants/)."),
    old: str = typer.Option(..., "--old", help="The rules before the change: a file, or git:REV:path."),
    new: str = typer.Option(..., "--new", help="The rules after the change: a file, or git:REV:path."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or markdown (to paste into a pull request)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write to this file (atomically)."),
    engine: str = EngineOption,
    fail_on_flip: bool = typer.Option(False, "--fail-on-flip", help="Exit 1 when some applicant's verdict changes."),
) -> None:
    """Compare every applicant under two versions of the rules: verdict (after ranking and
    quota), score and rank, old and new. Verdict changes come first, each attributed to the
    criteria whose outcome changed (before/after) and the parameters or edits behind them.

    Example: eligibility diff --old git:HEAD:rules/sovereign-ai-2025.yaml --new rules/sovereign-ai-2025.yaml

    Exit status: 0 compared; 1 with --fail-on-flip when a verdict changes; 2 bad input; 3 engine failure.
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    from ..rulediff import compare, load_rules_ref, profile_paths
    report = compare(load_rules_ref(old), load_rules_ref(new), profile_paths(profiles or ["applicants"]),
                     check_engine(engine))
    if fmt == "json":
        write_atomic(output, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "markdown":
        from ..render.rulediff import render_diff_markdown
        write_atomic(output, render_diff_markdown(report))
    else:
        from ..render.rulediff import render_diff
        from .console import console_for
        with console_for(output) as console:
            render_diff(report, console)
    if fail_on_flip and report["summary"]["flipped"]:
        raise typer.Exit(1)
