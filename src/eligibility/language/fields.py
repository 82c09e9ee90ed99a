"""Reading typed fields out of positioned YAML mappings, collecting problems as it goes."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from eligibility.core.errors import Problems
from eligibility.language.expr import suggest
from eligibility.language.yamlsafe import Pos, YList, YMap

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")   # no leading '_': no dunder look-alikes
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_MISSING = object()


class Reader:
    """Reads fields from mappings of one file, adding a problem (with position) per defect.

    YAML mappings (YMap, YList) know where each value came from; a plain mapping (from a JSON
    line or a CSV row) is reported at `default`, the position of the whole record."""

    def __init__(self, problems: Problems, default: Pos = Pos(1, 1)):
        self.problems = problems
        self.default = default

    def where(self, parent: Any, key: Any) -> Pos:
        """Where the value of `key` in `parent` starts."""
        return parent.pos(key) if isinstance(parent, (YMap, YList)) else self.default

    def kwhere(self, parent: Any, key: Any) -> Pos:
        """Where the key `key` of `parent` starts."""
        return parent.kpos(key) if isinstance(parent, YMap) else self.default

    def start(self, value: Any) -> Pos:
        return value.start if isinstance(value, (YMap, YList)) else self.default

    def error(self, pos: Pos, message: str) -> None:
        self.problems.add(pos.line, pos.col, message)

    def warn(self, pos: Pos, message: str) -> None:
        self.problems.add(pos.line, pos.col, message, severity="warning")

    def mapping(self, parent: Any, key: Any, pos: Pos, what: str, required: bool = True) -> dict | None:
        value = parent.get(key, _MISSING) if isinstance(parent, dict) else _MISSING
        if value is _MISSING or value is None:
            if required:
                self.error(pos, f"{what}: missing '{key}'")
            return None
        if not isinstance(value, dict):
            self.error(self.where(parent, key), f"{what}: '{key}' must be a mapping")
            return None
        return value

    def seq(self, parent: dict, key: str, what: str, required: bool = False) -> list | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(self.start(parent), f"{what}: missing '{key}'")
            return None
        if not isinstance(value, list):
            self.error(self.where(parent, key), f"{what}: '{key}' must be a list")
            return None
        return value

    def text(self, parent: dict, key: str, what: str, required: bool = True, default: str = "") -> str:
        value = parent.get(key, _MISSING)
        if type(value) is str:
            return value.strip()
        if value is _MISSING or value is None:
            if required:
                self.error(self.start(parent), f"{what}: missing '{key}'")
            return default
        if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.error(self.where(parent, key), f"{what}: '{key}' must be text")
            return default
        return value.strip()

    def date(self, parent: dict, key: str, what: str, required: bool = False) -> str:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(self.start(parent), f"{what}: missing '{key}'")
            return ""
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        self.error(self.where(parent, key), f"{what}: '{key}' must be a date YYYY-MM-DD, got {value!r}")
        return ""

    def known_keys(self, mapping: dict, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(self.kwhere(mapping, key), f"{what}: unknown key '{key}'" + suggest(str(key), allowed))

    def name(self, value: Any, pos: Pos, what: str, pattern: re.Pattern = NAME_RE) -> bool:
        if not isinstance(value, str) or not pattern.match(value):
            rule = "a lower-case letter, then lower-case letters, digits and _" if pattern is NAME_RE else "letters, digits, '.', '_' and '-'"
            self.error(pos, f"{what}: invalid name {value!r} (use {rule})")
            return False
        return True
