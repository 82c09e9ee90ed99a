"""How `--help` reads: command docstrings reflowed into paragraphs, arguments named without a type
column, flags shown as flags. Every command and the root group use the classes below, so the
typer version's help layout is adjusted here only."""
from __future__ import annotations

import inspect
from typing import Any, Optional

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def reflow(text: Optional[str]) -> Optional[str]:
    """A docstring with the line breaks inside each paragraph joined, so the terminal wraps it;
    blank lines still separate paragraphs."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


class _NamedArgument(TyperArgument):
    """A positional argument shown by its name alone: `PROFILE`, `[PROFILES]...`."""

    @property
    def display_name_raw(self) -> str:
        return (self.metavar or self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> Optional[str]:
        return None                   # the name says what it is; typer would add `<str>`

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw.removesuffix("...")
        name = name if self.required else f"[{name}]"
        return [name + ("..." if self.nargs != 1 else "")]


class _PlainOption(TyperOption):
    """An on/off flag shown as the flag alone, an option's value by its metavar, else by the
    option's name (typer would add `<bool>`, `<str>`)."""

    def display_type_rich(self, ctx: Any) -> Optional[str]:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        return (self.name or "value").upper()


def _plain(param: Any) -> Any:
    """The parameter, displayed by the classes above (they change the help display only)."""
    if type(param) is TyperArgument:
        param.__class__ = _NamedArgument
    elif type(param) is TyperOption:
        param.__class__ = _PlainOption
    return param


class Command(TyperCommand):
    def __init__(self, *args: Any, help: Optional[str] = None, **kwargs: Any):
        super().__init__(*args, help=reflow(help), **kwargs)

    def get_params(self, ctx: Any) -> list:
        return [_plain(p) for p in super().get_params(ctx)]


class Group(TyperGroup):
    def __init__(self, *args: Any, help: Optional[str] = None, **kwargs: Any):
        super().__init__(*args, help=reflow(help), **kwargs)

    def get_params(self, ctx: Any) -> list:
        # typer adds --install-completion and --show-completion after construction
        return [_plain(p) for p in super().get_params(ctx)]


class Typer(typer.Typer):
    """`typer.Typer` whose commands use `Command` and whose root uses `Group`."""

    def __init__(self, **kwargs: Any):
        super().__init__(cls=Group, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
