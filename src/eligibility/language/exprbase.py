"""What every part of the condition parser shares: its error type and the did-you-mean hint."""
from __future__ import annotations

import difflib


class ExprError(Exception):
    """A problem in a condition, at 0-based character offset `offset` of its text."""

    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset = offset
        self.message = message


def suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
