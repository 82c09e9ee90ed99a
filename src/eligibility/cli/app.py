"""The typer application object and options shared by several commands."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

import typer

from eligibility.cli.helptext import Typer
from eligibility.core.errors import InputError, Problem
from eligibility.core.text import describe, find_unsafe


@dataclass
class State:
    debug: bool = False


state = State()
app = Typer(
    name="eligibility",
    help="Rules-as-code eligibility decisions: YAML criteria, evaluated with durable-rules, explained line by line.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from eligibility import __version__
        typer.echo(f"eligibility {__version__}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks for errors."),
          version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                       help="Show the version and exit.")) -> None:
    state.debug = debug


def choice(names: tuple[str, ...]) -> str:
    """The metavar of a value from a fixed list: --help lists the choices (each command checks them)."""
    return "[" + "|".join(names) + "]"


ENGINE_CHOICES = ("durable", "python", "both")
RulesOption = typer.Option(None, "--rules", "-r", metavar="FILE",
                           help="Rules file (default: the only rules file in ./rules).")
EngineOption = typer.Option("durable", "--engine", metavar=choice(ENGINE_CHOICES),
                            help="durable (engine of record), python, or both (audit mode).")
SetOption = typer.Option(None, "--set", metavar="FACT=VALUE", help="What-if: override a fact (repeatable).")
ParamOption = typer.Option(None, "--param", metavar="NAME=VALUE", help="What-if: override a rule parameter (repeatable).")
OutputOption = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to this file (atomically).")
AsOfOption = typer.Option(None, "--as-of", metavar="DATE", help="Evaluate with the facts known on this date (YYYY-MM-DD).")


def format_option(formats: tuple[str, ...], default: str = "text") -> Any:
    return typer.Option(None, "--format", "-f", metavar=choice(tuple(f for f in formats if f != "table")),
                        help=f"Output format (default: from the --output extension, else {default}).")


def pairs(items: Optional[list[str]], flag: str) -> dict[str, str]:
    """Parse repeated name=value options."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(Problem(flag, 0, 0, f"expected name=value, got {item!r}"))
        bad = find_unsafe(item)
        if bad >= 0:
            raise InputError(Problem(flag, 0, 0, f"{describe(item[bad])} is not allowed in {item!r}"))
        out[name.strip()] = value.strip()
    return out


def check_engine(engine: str) -> str:
    if engine not in ("durable", "python", "both"):
        raise InputError(Problem("--engine", 0, 0, f"unknown engine {engine!r}: use durable, python or both"))
    return engine


def check_date(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    import datetime as dt
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(Problem("--as-of", 0, 0, f"not a date YYYY-MM-DD: {value!r}")) from None


_EXTENSION_FORMATS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".md": "markdown",
                      ".markdown": "markdown", ".txt": "text"}


def output_format(fmt: Optional[str], output: Optional[str], formats: tuple[str, ...]) -> str:
    """The --format given, else the one the --output file's extension names, else the first (default)."""
    if fmt is None and output not in (None, "-"):
        guess = _EXTENSION_FORMATS.get(os.path.splitext(output)[1].lower())
        fmt = guess if guess in formats else None
    fmt = fmt or formats[0]
    if fmt == "table":            # the batch table's former name, kept as an alias of text
        fmt = "text"
    if fmt not in formats:
        raise InputError(Problem("--format", 0, 0, f"unknown format {fmt!r}: choose one of {', '.join(formats)}"))
    return fmt


def verdict_set(value: Optional[str], flag: str = "--fail-on") -> set[str]:
    """A comma-separated list of verdicts, each checked (a typo must not silently disable a CI gate)."""
    from eligibility.program.decision import VERDICTS
    chosen = {v.strip() for v in (value or "").split(",") if v.strip()}
    unknown = sorted(chosen - set(VERDICTS))
    if unknown:
        raise InputError(Problem(flag, 0, 0, f"unknown verdict(s) {', '.join(map(repr, unknown))}: "
                                             f"choose from {', '.join(VERDICTS)}"))
    return chosen


def use_color() -> bool:
    return "NO_COLOR" not in os.environ
