"""User-facing errors: every problem names a file and, where known, a line and column."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}:{self.col or 1}"
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{self.message}"

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


class Problems:
    """Collects problems so that a loader can report all of them at once."""

    def __init__(self, path: str):
        self.path = path
        self.items: list[Problem] = []

    def add(self, line: int, col: int, message: str, severity: str = "error") -> None:
        self.items.append(Problem(self.path, line, col, message, severity))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputError(sorted(self.errors, key=lambda p: (p.path, p.line, p.col)))
