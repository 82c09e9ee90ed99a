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
    """Reads fields from YAML mappings of one file, adding a problem (with position) per defect."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def error(self, pos: Pos, message: str) -> None:
        self.problems.add(pos.line, pos.col, message)

    def warn(self, pos: Pos, message: str) -> None:
        self.problems.add(pos.line, pos.col, message, severity="warning")

    def mapping(self, parent: Any, key: Any, pos: Pos, what: str, required: bool = True) -> YMap | None:
        value = parent.get(key, _MISSING) if isinstance(parent, dict) else _MISSING
        if value is _MISSING or value is None:
            if required:
                self.error(pos, f"{what}: missing '{key}'")
            return None
        if not isinstance(value, YMap):
            self.error(parent.pos(key), f"{what}: '{key}' must be a mapping")
            return None
        return value

    def seq(self, parent: YMap, key: str, what: str, required: bool = False) -> YList | None:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(parent.start, f"{what}: missing '{key}'")
            return None
        if not isinstance(value, YList):
            self.error(parent.pos(key), f"{what}: '{key}' must be a list")
            return None
        return value

    def text(self, parent: YMap, key: str, what: str, required: bool = True, default: str = "") -> str:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(parent.start, f"{what}: missing '{key}'")
            return default
        if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.error(parent.pos(key), f"{what}: '{key}' must be text")
            return default
        return value.strip()

    def date(self, parent: YMap, key: str, what: str, required: bool = False) -> str:
        value = parent.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.error(parent.start, f"{what}: missing '{key}'")
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
        self.error(parent.pos(key), f"{what}: '{key}' must be a date YYYY-MM-DD, got {value!r}")
        return ""

    def known_keys(self, mapping: YMap, allowed: tuple[str, ...], what: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.error(mapping.kpos(key), f"{what}: unknown key '{key}'" + suggest(str(key), allowed))

    def name(self, value: Any, pos: Pos, what: str, pattern: re.Pattern = NAME_RE) -> bool:
        if not isinstance(value, str) or not pattern.match(value):
            rule = "a lower-case letter, then lower-case letters, digits and _" if pattern is NAME_RE else "letters, digits, '.', '_' and '-'"
            self.error(pos, f"{what}: invalid name {value!r} (use {rule})")
            return False
        return True
