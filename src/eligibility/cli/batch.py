"""`eligibility batch`: every applicant, ranked, with the program's quota applied."""
from __future__ import annotations

import os
import sys
import time
from typing import List, Optional

import typer

from eligibility import api
from eligibility.core.text import safe
from eligibility.records.record import RecordOptions
from eligibility.render.output import atomic_writer
from eligibility.cli.app import (AsOfOption, EngineOption, OutputOption, ParamOption, RulesOption, SetOption, app,
                                 check_date, check_engine, choice, format_option, output_format, pairs, verdict_set)

FORMATS = ("text", "json", "jsonl", "csv", "markdown", "table")     # table: the text format's former name
LONG_RUN = 1.0          # seconds before a progress bar appears


@app.command()
def batch(
    paths: Optional[List[str]] = typer.Argument(None, metavar="PROFILES...", help="Profiles: YAML files, directories of them, .jsonl or "
                                                           ".csv files, or - for stdin (default: applicants/)."),
    rules: Optional[str] = RulesOption,
    fmt: Optional[str] = format_option(FORMATS),
    output: Optional[str] = OutputOption,
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, metavar="N", help="Processes that evaluate: this one and N-1 workers, each compiling the rules once."),
    engine: str = EngineOption,
    set_: Optional[List[str]] = SetOption,
    param: Optional[List[str]] = ParamOption,
    as_of: Optional[str] = AsOfOption,
    input_format: Optional[str] = typer.Option(None, "--input-format", metavar=choice(("yaml", "jsonl", "csv")),
                                               help="Input format, when the extension does not say (stdin)."),
    trace: Optional[bool] = typer.Option(None, "--trace/--no-trace",
                                         help="Include each record's trace (default: yes for json, no for jsonl)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", metavar="VERDICTS",
                                          help="Exit 1 when any final verdict is one of these (e.g. undetermined)."),
) -> None:
    """Score every applicant and give the program's decision, ranked, with the quota.

    Final verdicts: selected, eligible-not-selected (over the quota), excluded, undetermined,
    ranked by score and the documented tie-breaks.

    An input that cannot be read or is invalid is reported as an `error` entry (file, line,
    message); the others are still evaluated.

    Exit status: 0 every input evaluated; 1 a final verdict is listed in --fail-on; 2 some inputs
    were invalid (each is listed, the others are evaluated), or bad usage or rules; 3 engine failure (or engines disagree with
    --engine both); 130 interrupted (no output file is left behind).
    """
    from eligibility.program import batch as bt
    fmt = output_format(fmt, output, FORMATS)
    failing = verdict_set(fail_on)
    as_of = check_date(as_of)
    program = api.load_rules(rules or api.find_rules(), pairs(param, "--param"), as_of, params_label="--param")
    inputs = list(paths or ["applicants"])
    if program.stages:
        from eligibility.program.stages import refuse_overrides
        refuse_overrides(program, program.path, [("parameter overrides (--param)", param),
                                                 ("fact overrides (--set)", set_), ("stdin", "-" in inputs)])
        _staged(program, inputs, fmt, output, as_of, check_engine(engine))
        return
    with_trace = (fmt == "json") if trace is None else trace
    progress = _Progress(inputs, input_format)
    options = bt.BatchOptions(engine=check_engine(engine), jobs=jobs, as_of=as_of, settings=pairs(set_, "--set"),
                              settings_label="--set", input_format=input_format, keep_all=fmt not in ("jsonl", "csv"),
                              records=RecordOptions(trace=with_trace, command=("eligibility", *sys.argv[1:])))
    try:
        with atomic_writer(output) if fmt != "text" else _nothing() as fh:
            sink = None
            if fmt == "jsonl":
                from eligibility.render.batch_jsonl import JsonlSink
                sink = JsonlSink(fh)
            elif fmt == "csv":
                from eligibility.render.batch_csv import CsvSink
                sink = CsvSink(fh, program)
            elif fmt == "json":
                from eligibility.render.batch_json import JsonSink
                sink = JsonSink(fh)
            result = bt.run_batch(program, inputs, options, sink, on_progress=progress.update)
            progress.stop()
            if fmt == "markdown":
                from eligibility.render.batch_markdown import render_ranking
                fh.write(render_ranking(result))
        if fmt == "text":
            from eligibility.render.batch_text import render_ranking as render_table
            from eligibility.cli.console import console_for
            with console_for(output) as console:
                render_table(result, console)
    except KeyboardInterrupt:
        progress.stop()
        print(f"eligibility: interrupted after {progress.done} input(s); no output written", file=sys.stderr)
        raise typer.Exit(130)
    finally:
        progress.stop()
    if fmt != "text" and output not in (None, "-"):
        s = result.summary
        print(f"{s['inputs']} inputs: {s['selected']} selected, {s['eligible-not-selected']} eligible-not-selected, "
              f"{s['excluded']} excluded, {s['undetermined']} undetermined, {s['errors']} error(s) -> {output}",
              file=sys.stderr)
    for err in result.errors[:20]:
        where = f"{err['path']}:{err['line']}:{err['col'] or 1}" if err["line"] else err["path"]
        print(safe(f"eligibility: error: {where}: {err['message']}", one_line=True), file=sys.stderr)
    if len(result.errors) > 20:
        print(f"eligibility: ... and {len(result.errors) - 20} more error(s)", file=sys.stderr)
    if result.errors:
        raise typer.Exit(2)             # bad input, as for `check`; the good inputs are all in the output
    if any(result.summary.get(v) for v in failing):
        raise typer.Exit(1)


def _staged(program, inputs: List[str], fmt: str, output: Optional[str], as_of: Optional[str], engine: str) -> None:
    """A programme in stages: its state on the date (who is in, who left at which stage and why)."""
    import json
    from eligibility.program.stages import ERROR, run_stages
    from eligibility.render.output import write_atomic
    from eligibility.render.stages import render_state, state_dict
    if fmt not in ("text", "json"):
        raise typer.BadParameter(f"a programme in stages is shown as text or json, not {fmt}", param_hint="--format")
    result = run_stages(program, inputs, as_of, engine)
    text = json.dumps(state_dict(result), indent=2, ensure_ascii=False) + "\n" if fmt == "json" else render_state(result)
    write_atomic(output, text) if output not in (None, "-") else typer.echo(text, nl=False)
    errors = [j for j in result.journeys if j.status == ERROR]
    for j in errors:
        print(safe(f"eligibility: error: {j.error}", one_line=True), file=sys.stderr)
    if errors:
        raise typer.Exit(2)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def expected_inputs(paths: List[str], forced: Optional[str] = None) -> Optional[int]:
    """How many inputs the paths hold, when that is known without parsing: one per YAML file, one
    per line of a JSON Lines file, one per line after the header of a CSV file (quoted line breaks
    make this an upper bound); None when some input is stdin."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        if os.path.isdir(path):
            total += sum(1 for f in os.listdir(path) if f.endswith((".yaml", ".yml")))   # not subdirectories: not read
            continue
        kind = forced or os.path.splitext(path)[1].lower().lstrip(".")
        if kind in ("jsonl", "ndjson", "csv"):
            try:
                with open(path, "rb") as fh:
                    lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
                    fh.seek(-1, os.SEEK_END) if fh.tell() else None
                    lines += bool(fh.tell()) and fh.read(1) != b"\n"
            except OSError:
                return None
            total += max(lines - (kind == "csv"), 0)
        else:
            total += 1
    return total


class _Progress:
    """A rich progress bar on stderr, only on a terminal and only once the run has lasted a while:
    with a total, percentage and time left when the number of inputs is known."""

    def __init__(self, paths: Optional[List[str]] = None, forced: Optional[str] = None) -> None:
        self.done = 0
        self.start = time.monotonic()
        self.enabled = sys.stderr.isatty() and "NO_COLOR" not in os.environ
        self.total = expected_inputs(paths or [], forced) if self.enabled else None
        self.bar = None
        self.task = None

    def update(self, done: int) -> None:
        """Called after each unit of work (up to about a thousand inputs)."""
        self.done = done
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.start < LONG_RUN:
                return
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskProgressColumn,
                                       TextColumn, TimeElapsedColumn, TimeRemainingColumn)
            columns = [SpinnerColumn(), TextColumn("evaluating"), BarColumn(), TaskProgressColumn(),
                       MofNCompleteColumn(), TextColumn("{task.fields[rate]:,.0f}/s"), TimeElapsedColumn()]
            if self.total:
                columns += [TextColumn("left"), TimeRemainingColumn()]
            self.bar = Progress(*columns, console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("batch", total=self.total or None, rate=0.0)
        rate = done / max(time.monotonic() - self.start, 1e-9)
        self.bar.update(self.task, completed=done, rate=rate)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
