"""`eligibility test`: run the YAML rule tests, compare verdicts and reasons, report coverage."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, List, Optional

import typer

from eligibility.cli.app import EngineOption, app, check_engine, choice

if TYPE_CHECKING:
    from eligibility.analysis.ruletests import Coverage

# The rule tests and rich's tables are imported by the command itself: every other command
# (`check`, `batch`) starts without them.


@app.command("test")
def test_command(
    paths: Optional[List[str]] = typer.Argument(None, help="Test files or directories "
                                                "(default: rules/*.tests.yaml and tests/rules/*.yaml)."),
    coverage: bool = typer.Option(False, "--coverage", help="List the criteria and tests not seen "
                                  "true, false and unknown, with their rules file:line:col."),
    min_coverage: Optional[float] = typer.Option(None, "--min-coverage", min=0, max=100, metavar="PERCENT", help="Fail below this coverage (%)."),
    fmt: str = typer.Option("text", "--format", "-f", metavar=choice(("text", "json")), help="text or json."),
    engine: str = EngineOption,
) -> None:
    """Run the YAML rule tests and report coverage of every criterion and test.

    Each case evaluates a profile (a file, or inline facts, with overrides and parameters) and
    compares the verdict, failed gates, criterion outcomes, score, missing facts and reason.

    Exit status: 0 all passed (and coverage reached); 1 a case failed or coverage is too low; 2 bad input.
    """
    from eligibility.analysis.ruletests import Coverage, Runner, discover, load_cases
    from eligibility.cli.console import console_for
    if fmt not in ("text", "json"):
        raise typer.BadParameter("choose text or json", param_hint="--format")
    files = discover(paths or [])
    if not files:
        raise typer.BadParameter("no rule test files found (rules/*.tests.yaml, tests/rules/*.yaml)",
                                 param_hint="PATHS")
    cases = [case for path in files for case in load_cases(path)]
    runner, cov = Runner(check_engine(engine)), Coverage()
    results = []
    try:
        for case in cases:
            result = runner.run(case)
            cov.add(result.evaluation, result.evaluation.program.path)   # per version of the rules
            results.append(result)
    finally:
        runner.close()
    failed = [r for r in results if not r.passed]
    too_low = min_coverage is not None and cov.percent < min_coverage
    if fmt == "json":
        print(json.dumps(_json(results, cov), ensure_ascii=False, indent=2))
    else:
        with console_for(None) as console:
            _text(console, results, cov, coverage, min_coverage)
    if failed or too_low:
        raise typer.Exit(1)


def _json(results, cov: Coverage) -> dict:
    from eligibility.analysis.ruletests import outcome_word
    return {
        "passed": sum(r.passed for r in results), "failed": sum(not r.passed for r in results),
        "cases": [{"file": r.case.file, "line": r.case.line, "name": r.case.name, "passed": r.passed,
                   "verdict": r.evaluation.verdict, "reason": r.evaluation.reason,
                   "mismatches": [{"field": m.field, "expected": m.expected, "actual": m.actual}
                                  for m in r.mismatches]} for r in results],
        "coverage": {"percent": round(cov.percent, 1),
                     "untested": [{"path": i.path, "line": i.line, "col": i.col, "kind": i.kind, "owner": i.owner,
                                   "text": i.text, "missing": [outcome_word(t, i.kind) for t in i.missing]}
                                  for i in cov.untested()]},
    }


def _text(console, results, cov: Coverage, list_untested: bool, min_coverage: Optional[float]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from eligibility.core.formatting import number
    from eligibility.records.record import evaluation_record
    from eligibility.render.text import trace_tree
    from eligibility.analysis.ruletests import outcome_word
    for r in results:
        where = f"{r.case.file}:{r.case.line}"
        if r.passed:
            console.print(Text.assemble(("PASS ", "green"), f"{where}  {r.case.name}"), soft_wrap=True)
            continue
        console.print(Text.assemble(("FAIL ", "bold red"), f"{where}  {r.case.name}"), soft_wrap=True)
        table = Table(box=box.SIMPLE, show_header=True)
        for col in ("", "expected", "actual"):
            table.add_column(col, overflow="fold")
        for m in r.mismatches:
            table.add_row(m.field, Text(_show(m.expected)), Text(_show(m.actual), style="red"))
        console.print(table)
        console.print(Text(f"  reason: {r.evaluation.reason}"))
        shown = {c for m in r.mismatches for c in m.criteria}
        if shown:
            rec = evaluation_record(r.evaluation, trace=True)
            rec["trace"]["criteria"] = [c for c in rec["trace"]["criteria"] if c["id"] in shown]
            console.print(trace_tree(rec))
    passed = sum(r.passed for r in results)
    console.print(Text(f"{passed} passed, {len(results) - passed} failed",
                       style="bold green" if passed == len(results) else "bold red"))
    untested = cov.untested()
    line = f"coverage {cov.percent:.1f}% of criterion and test outcomes (true, false, unknown)"
    if min_coverage is not None:
        line += f"; minimum {number(min_coverage)}%" + (" NOT reached" if cov.percent < min_coverage else " reached")
    console.print(Text(line, style="bold"))
    if list_untested:
        for item in untested:
            missing = ", ".join(outcome_word(t, item.kind) for t in item.missing)
            text = " ".join(item.text.split())
            what = f"({text})" if item.kind == "criterion" else f"test '{text}'"
            console.print(f"  {item.path}:{item.line}:{item.col}: {item.owner} {what} never {missing}",
                          highlight=False, markup=False, soft_wrap=True)


def _show(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "—" if value is None else str(value)
