"""`eligibility replay`: re-run saved evaluation records and say whether the result is identical."""
from __future__ import annotations

import json

import typer

from eligibility.render.output import write_atomic
from eligibility.cli.app import app, choice

FORMATS = ("text", "json")


@app.command()
def replay(
    record: str = typer.Argument(..., help="A saved `check --format json` record, or a `batch --format json` "
                                           "or `--format jsonl` output (every applicant in it is replayed)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar=choice(FORMATS), help="text or json."),
) -> None:
    """Re-run saved evaluations (check or batch JSON) and say whether the results are identical.

    Each record is re-run from the files, parameters, overrides, engine and as-of date it
    records, and compared: verdict, reason, score, criterion outcomes, rules version, and the
    sha256 of the rules file, of the rules version evaluated and of the profile (a file changed
    since the record is named). Relative paths are read from the current directory, as recorded.

    Exit status: 0 every result identical; 1 something differs (or could not be re-run); 2 bad input.
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    from eligibility.analysis.replay import replay_file
    report = replay_file(record, settings_label="--set")
    if fmt == "json":
        write_atomic(None, json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        from rich.text import Text

        from eligibility.cli.console import console_for
        from eligibility.core.text import safe
        with console_for(None) as console:
            for r in report.results:
                if r.identical:
                    console.print(Text.assemble(("identical ", "green"), safe(f"{r.applicant}: {r.verdict}", True)))
                    continue
                recorded = f": recorded {r.verdict}" if r.verdict else ""
                console.print(Text.assemble(("DIFFERENT ", "bold red"), safe(f"{r.applicant}{recorded}", True)))
                if r.error:
                    console.print(Text(safe(f"  {r.error}", True)), soft_wrap=True)
                for d in r.differences:
                    short = d.field.endswith("sha256")          # full hashes are in --format json
                    line = f"  {d.field}: recorded {_show(d.recorded, short)}, now {_show(d.now, short)}"
                    console.print(Text(safe(line + (f" ({d.note})" if d.note else ""), True)), soft_wrap=True)
            same = sum(r.identical for r in report.results)
            console.print(Text(f"{same} of {len(report.results)} result(s) identical",
                               style="bold green" if report.identical else "bold red"))
    if not report.identical:
        raise typer.Exit(1)


def _show(value, short: bool = False) -> str:
    if short and isinstance(value, str):
        return value[:12] + "…"
    return "-" if value is None else json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
