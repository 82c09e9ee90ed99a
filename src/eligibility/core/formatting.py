"""How numbers and fact values are written for people, in every output."""
from __future__ import annotations

import datetime as dt
from typing import Any


# Outcomes of criteria (met / not_met / unknown) and of condition nodes (true / false / unknown),
# shown with a symbol as well as a colour everywhere, so they read in black and white too.
OUTCOME_SYMBOL = {"met": "✔", "not_met": "✘", "unknown": "?", "true": "✔", "false": "✘"}
OUTCOME_LABEL = {"met": "met", "not_met": "not met", "unknown": "unknown", "true": "true", "false": "false"}


def number(x: Any) -> str:
    """A score or amount as people write it: 45 (not 45.0), 0.8, 1234567 (never 1.23457e+06)."""
    if x is None:
        return ""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6f}".rstrip("0").rstrip(".")


def up_to(x: Any) -> str:
    """An "up to" score: None stands for no upper bound (points read an input without a declared range)."""
    return "unbounded" if x is None else number(x)


def clip(text: str, limit: int = 200) -> str:
    """Text cut to `limit` characters for a table cell (a 4 MB name must not take minutes to lay out)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def value(v: Any, unknown: str = "unknown", quote: bool = False, brackets: bool = True) -> str:
    """A fact value as text: booleans lower-case, lists joined, dates ISO, None as `unknown`."""
    if v is None:
        return unknown
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(value(x, unknown, quote) for x in v)
        return f"[{inner}]" if brackets else (inner or "(none)")
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (int, float)):
        return number(v)
    return f'"{v}"' if quote and isinstance(v, str) else str(v)
