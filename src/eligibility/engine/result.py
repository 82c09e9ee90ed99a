"""What an engine returns for one applicant, the same type for every engine.

`outcomes()` gives every node's three-valued outcome (True, False, None for unknown) by node
id; `firings()` gives what the engine did, decoded into plain objects (empty when no trace was
asked for, and for the direct Python evaluator, which fires nothing). `key` determines the
outcomes: two results with equal keys have equal outcomes, so a caller may reuse what it
computed from one for the other (see evaluate/memo.py). Nothing outside this package knows
how an engine encodes its work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Hashable, Mapping

Outcomes = dict[int, "bool | None"]


@dataclass(frozen=True, slots=True)
class Firing:
    """One rule firing: the rule's name and, by alias, what it matched: `{"derived": name}` for a
    conclusion of another rule, `{"profile": {fact: value}}` for the applicant's facts it tested,
    `{"sentinel": True}` for the engine's housekeeping rule."""

    rule: str
    matched: Mapping[str, Mapping[str, Any]]


class EngineResult:
    """One applicant's run through an engine (see the module docstring)."""

    __slots__ = ()

    @property
    def key(self) -> Hashable:
        raise NotImplementedError

    def outcomes(self) -> Outcomes:
        raise NotImplementedError

    def firings(self) -> tuple[Firing, ...]:
        return ()
