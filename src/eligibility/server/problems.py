"""Errors as problem details (RFC 9457): a status, a title, and each problem with a JSON pointer
(RFC 6901) to the part of the request it is about and the message the CLI gives for it."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Iterable

from eligibility.api import InputError, Problem

PROBLEM_TYPE = "application/problem+json"


class ApiError(Exception):
    """An error answered as problem details."""

    def __init__(self, status: int, title: str, errors: Iterable[tuple[str, str]] = (), detail: str = "",
                 headers: dict[str, str] | None = None):
        self.status, self.title, self.errors = status, title, list(errors)
        self.detail = detail or (self.errors[0][1] if self.errors else title)
        self.headers = headers or {}
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail,
                "errors": [{"pointer": p, "detail": d} for p, d in self.errors]}


def escape(token: str) -> str:
    """One JSON pointer reference token."""
    return str(token).replace("~", "~0").replace("/", "~1")


def invalid(exc: InputError, pointer: Callable[[Problem], str]) -> ApiError:
    """422 for the problems of an InputError, each pointed at by `pointer(problem)`."""
    return ApiError(422, "invalid input", [(pointer(p), p.message) for p in exc.problems] or [("", str(exc))])


class PointedText:
    """A JSON value as text with one key or item per line, and the JSON pointer of every line: a
    problem the YAML reader reports at a line points back into the request."""

    def __init__(self, value: Any, base: str):
        self.text = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
        self.digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        self.pointers: list[str] = []
        self._walk(value, base)

    def _walk(self, value: Any, here: str) -> None:
        self.pointers.append(here)                    # the line the value starts on
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        items = list(items)
        if not items:
            return
        for key, child in items:
            self._walk(child, f"{here}/{escape(key)}")
        self.pointers.append(here)                    # its closing bracket

    def pointer(self, line: int) -> str:
        return self.pointers[line - 1] if 0 < line <= len(self.pointers) else self.pointers[0]
