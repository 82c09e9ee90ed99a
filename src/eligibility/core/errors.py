"""User-facing errors: every problem names a file and, where known, a line and column."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Messages quote untrusted text: control characters (newlines, terminal escapes) are shown escaped
# so that every problem stays one line and cannot rewrite the terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _printable(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = _printable(self.path)
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{_printable(self.message)}"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "col": self.col,
                "severity": self.severity, "message": self.message}


class EligibilityError(Exception):
    """Base class of every error that the CLI reports as a clean message (exit 2)."""

    exit_code = 2

    @property
    def problems(self) -> list[Problem]:
        return []


class InputError(EligibilityError):
    """One or more problems in input files. `str()` gives one line per problem."""

    def __init__(self, problems: list[Problem] | Problem):
        self._problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self._problems))

    @property
    def problems(self) -> list[Problem]:
        return self._problems

    @classmethod
    def at(cls, path: str, line: int, col: int, message: str) -> "InputError":
        return cls(Problem(path, line, col, message))


class EngineError(EligibilityError):
    """The rules engine failed or was stopped by a guard (firing budget, engine limits)."""


class OutputError(EligibilityError):
    """An output could not be written (disk full, file too large, I/O error)."""

    def __init__(self, target: str, exc: OSError | str):
        self.target, self.detail = target, exc if isinstance(exc, str) else (exc.strerror or str(exc))
        super().__init__(f"{target}: cannot write output: {self.detail}")

    def __reduce__(self) -> tuple:        # it may be raised in a worker process and sent to the parent
        return (OutputError, (self.target, self.detail))


class EnginesDisagree(EngineError):
    """`--engine both`: durable-rules and the Python evaluator gave different outcomes (an audit stop)."""


MAX_PROBLEMS = 20          # problems kept per input; past it they are only counted (SECURITY.md)


class Problems:
    """Collects problems so that a loader can report all of them at once (the first MAX_PROBLEMS,
    then how many more: a profile with a million unknown facts gives a short message)."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[Problem] = []
        self.more = 0

    def add(self, line: int, col: int, message: str, severity: str = "error") -> None:
        self.extend([Problem(self.path, line, col, message, severity)])

    def extend(self, problems: list[Problem]) -> None:
        room = MAX_PROBLEMS - len(self.items)
        self.items.extend(problems[:max(room, 0)])
        self.more += sum(1 for p in problems[max(room, 0):] if p.severity == "error")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    def raise_if_any(self) -> None:
        if self.items and self.errors:
            errors = sorted(self.errors, key=lambda p: (p.path, p.line, p.col))
            if self.more:
                errors.append(Problem(self.path, 0, 0, f"... and {self.more} more problem(s) not shown"))
            raise InputError(errors)
