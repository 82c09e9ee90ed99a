"""Edits to a rules file's text that keep every other byte as written: new parameter values."""
from __future__ import annotations

import difflib
import json
import re
from typing import Any, Mapping

from eligibility.core.errors import InputError, Problem
from eligibility.language.model import Program
from eligibility.language.yamlsafe import YMap, load_yaml

# A plain scalar runs to the end of the line or to a comment (" #"); a quoted one to its closing quote.
_PLAIN = re.compile(r"[^#\n]*?(?=\s+#|\s*$)")
_QUOTED = {"'": re.compile(r"'(?:[^']|'')*'"), '"': re.compile(r'"(?:[^"\\]|\\.)*"')}


def set_parameters(program: Program, text: str, values: Mapping[str, Any]) -> str:
    """The rules text with each named parameter's `value` replaced (values already checked by
    load_rules: `program` is the program loaded with them). Comments, order and layout are kept."""
    data = load_yaml(program.path, text)
    params = data.get("parameters") if isinstance(data, YMap) else None
    lines = text.splitlines(keepends=True)
    for name, value in values.items():
        if not isinstance(params, YMap) or name not in params or name not in program.parameters:
            raise InputError(Problem(program.path, 0, 0, f"no parameter '{name}' in the rules file"))
        spec = params[name]
        pos = spec.pos("value") if isinstance(spec, YMap) else params.pos(name)
        line = lines[pos.line - 1]
        start = pos.col - 1
        pattern = _QUOTED.get(line[start:start + 1], _PLAIN)
        match = pattern.match(line, start)
        if match is None:
            raise InputError(Problem(program.path, pos.line, pos.col, f"parameter '{name}': value is not on one line"))
        lines[pos.line - 1] = line[:start] + _scalar(value) + line[match.end():]
    return "".join(lines)


def _scalar(value: Any) -> str:
    """A YAML scalar for a parameter value (JSON's spelling is valid YAML for all of them)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return json.dumps(int(value)) if abs(value) < 2 ** 53 else json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def unified_patch(path: str, old: str, new: str) -> str:
    """A unified diff from `old` to `new` for `path` (relative, with a/ and b/ prefixes: `git apply`
    and `patch -p1` both take it); empty when nothing changed."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{path}", f"b/{path}"))
