"""Text that is safe to show: control characters, lone surrogates and bidirectional overrides
written as visible escapes.

Inputs are checked when they are read (`find_unsafe`: a control character written as an escape,
such as `"\\e"` in YAML or `"\\u001b"` in JSON, is refused with its position). The renderers also
pass what they print through `safe` / `safe_data`, so that text from anywhere else (a record given
to replay, a rules file) cannot move the cursor, retitle the terminal or flip the reading order.
"""
from __future__ import annotations

import re
from typing import Any

# C0 controls but tab, newline and carriage return; DEL and C1 controls; lone surrogates (they
# cannot be encoded as UTF-8); the bidirectional embeddings, overrides and isolates (Trojan Source).
_UNSAFE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
UNSAFE_IN_TEXT = re.compile(f"[{_UNSAFE}]")
UNSAFE_ON_ONE_LINE = re.compile(f"[{_UNSAFE}\t\n\r\u2028\u2029]")


def find_unsafe(text: str) -> int:
    """The index of the first character that no input text may hold, or -1."""
    found = UNSAFE_IN_TEXT.search(text)
    return -1 if found is None else found.start()


def describe(char: str) -> str:
    """How a refused character is named in an error message."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"lone surrogate U+{code:04X} (not valid Unicode)"
    return f"control character U+{code:04X}"


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str, one_line: bool = False) -> str:
    """`text` with every unsafe character written as an escape (`\\x1b`); with `one_line`, tabs and
    line breaks too."""
    pattern = UNSAFE_ON_ONE_LINE if one_line else UNSAFE_IN_TEXT
    return pattern.sub(_escape, text) if pattern.search(text) else text


def safe_data(value: Any, one_line: bool = False) -> Any:
    """`value` (plain data: dicts, lists, tuples, strings, numbers) with every string made `safe`,
    keys included. Returns the same object when there was nothing to change."""
    if isinstance(value, str):
        return safe(value, one_line)
    if isinstance(value, dict):
        items = [(safe_data(k, one_line), safe_data(v, one_line)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(items, value.items())):
            return value
        return dict(items)
    if isinstance(value, (list, tuple)):
        out = [safe_data(v, one_line) for v in value]
        if all(a is b for a, b in zip(out, value)):
            return value
        return type(value)(out) if isinstance(value, list) or type(value) is tuple else value
    return value
