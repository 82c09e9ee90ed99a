"""The program's decision over all applicants: ranking, quota and final verdicts.

Applicants who pass every gate and the threshold are ranked by score (highest first);
ties are broken by the rules file's `tie_breaks`, in order:

* `criteria_order`: points awarded per scored criterion, compared in the order the
  criteria are listed (the first listed criterion matters most);
* `gates_met`: more gates met first;
* `name`: applicant name, alphabetical (case-insensitive);
* `id`: applicant id, alphabetical (always applied last, so the order is total).

The first `quota` ranked applicants are `selected`; the others are
`eligible-not-selected`. Excluded, undetermined and error records keep their verdict
and get no rank.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable, Iterable

from eligibility.evaluate.assess import EXCLUDED, SELECTED, UNDETERMINED
from eligibility.language.model import Program

NOT_SELECTED, ERROR = "eligible-not-selected", "error"
VERDICTS = (SELECTED, NOT_SELECTED, UNDETERMINED, EXCLUDED, ERROR)


# Entries of large batches are many: no per-instance __dict__ where the Python has slotted dataclasses.
SLOTS = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclass(**SLOTS)
class Entry:
    """What the ranking keeps of one applicant (not the trace: batches must stay small in memory)."""

    key: int                          # position in the input stream
    id: str
    name: str
    verdict: str                      # applicant verdict before the quota, or "error"
    score: float = 0
    awarded: tuple[float, ...] = ()   # points per scored criterion, in rules order
    gates_met: int = 0
    reason: str = ""
    gates_failed: tuple[str, ...] = ()
    rank: int | None = None
    final: str = ""                   # verdict after ranking and quota
    published_by: str = ""            # the published criterion that set `verdict`, if one did


@dataclass
class Decision:
    entries: list[Entry]
    quota: int | None
    threshold: float
    tie_breaks: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    ranking: list[Entry] = field(default_factory=list)     # the ranked entries, in rank order

    def ordered(self) -> list[Entry]:
        """Ranked applicants first, then undetermined, excluded and errors (each by score, then name)."""
        order = {v: i for i, v in enumerate(VERDICTS)}
        return sorted(self.entries, key=lambda e: (order[e.final], e.rank if e.rank is not None else 0,
                                                   -e.score, e.name.casefold(), e.id, e.key))


def entry_from_record(key: int, rec: dict) -> Entry:
    """The ranking entry of an evaluation record (see record.evaluation_record)."""
    scored = [c for c in rec["criteria"] if c["kind"] == "scored"]
    gates = [c for c in rec["criteria"] if c["kind"] == "gate"]
    return Entry(key=key, id=rec["applicant"]["id"], name=rec["applicant"]["name"], verdict=rec["verdict"],
                 score=rec["score"], awarded=tuple(c["awarded"] for c in scored),
                 gates_met=sum(c["outcome"] == "met" for c in gates), reason=rec["reason"],
                 gates_failed=tuple(rec["gates_failed"]))


# Each tie-break as (sort key, highest first?): the ranking is sorted once per key, least
# significant first (Python's sort is stable, also in reverse), so most keys are read in C.
_TIE_BREAKS: dict[str, tuple[Callable[[Entry], Any], bool]] = {
    "criteria_order": (attrgetter("awarded"), True),
    "gates_met": (attrgetter("gates_met"), True),
    "name": (lambda e: e.name.casefold(), False),
    "id": (attrgetter("id"), False),
}


def ranked(entries: Iterable[Entry], tie_breaks: Iterable[str]) -> list[Entry]:
    """Entries in ranking order: score (highest first), then the tie-breaks in order, then id and
    input position, so that the order is total."""
    out = sorted(entries, key=attrgetter("key"))
    passes = [_TIE_BREAKS[tb] for tb in tie_breaks if tb in _TIE_BREAKS]
    for key, highest_first in [_TIE_BREAKS["id"], *reversed(passes), (attrgetter("score"), True)]:
        out.sort(key=key, reverse=highest_first)
    return out


def decide(program: Program, entries: list[Entry]) -> Decision:
    """Rank the eligible entries and apply the quota."""
    policy = program.decision
    eligible = ranked((e for e in entries if e.verdict == SELECTED), policy.tie_breaks)
    for i, e in enumerate(eligible, start=1):
        e.rank = i
        within = policy.quota is None or i <= policy.quota
        e.final = SELECTED if within else NOT_SELECTED
        if not within:
            e.reason = (f"eligible, not selected: ranked {i} of {len(eligible)} eligible, "
                        f"past the quota of {policy.quota} ({e.reason.removeprefix('selected: ')})")
    for e in entries:
        if e.verdict != SELECTED:
            e.final = e.verdict
    finals = Counter(map(attrgetter("final"), entries))
    counts = {v: finals[v] for v in VERDICTS}
    counts["total"] = len(entries)
    return Decision(entries=entries, quota=policy.quota, threshold=policy.threshold,
                    tie_breaks=policy.tie_breaks, counts=counts, ranking=eligible)
