"""Reuse across the applicants of a batch: one bounded memo, owned by whoever evaluates many.

Most applicants of a large population share their node outcomes with others (the benchmark's
100,000 have about 7,500 distinct sets), and so their assessment, and often the text written
from it. A batch worker keeps one `Memo`; nothing else in the code keeps results between
applicants. It holds a few tables (assessments by engine key, the rules a verdict rests on by
the criteria's outcomes, reasons by the values they name, ranking prospects and record text by
assessment); a table that reaches its limit drops its oldest entry for each new one, so memory
stays flat however many applicants pass, and the recent entries stay. An entry's size grows
with the programme's criteria (an assessment holds one result per criterion, a record one text
per criterion), so the limit is set from them: `MEMO_CRITERIA` criterion results per table, and
never more than `MEMO_LIMIT` entries; the table of single criterion results (`PER_CRITERION`)
keeps `MEMO_LIMIT`.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

MEMO_LIMIT = 8192        # entries kept per table; past it the oldest goes
MEMO_CRITERIA = 262144   # criterion results kept per table (about 80 MB of record text)
PER_CRITERION = "criterion"   # the table of one criterion's result each: MEMO_LIMIT entries whatever the size
T = TypeVar("T")


class Memo:
    """Named tables of values, each computed once per key until the memo is full."""

    def __init__(self, limit: int = MEMO_LIMIT, limits: dict[str, int] | None = None):
        self.limit = limit
        self.limits = limits or {}        # tables with a limit of their own
        self.tables: dict[str, dict[Hashable, Any]] = {}
        self.hits = self.misses = 0

    @classmethod
    def for_criteria(cls, criteria: int) -> "Memo":
        """A memo whose tables hold MEMO_CRITERIA criterion results each, for a programme of
        `criteria` criteria (at least 16 entries, at most MEMO_LIMIT)."""
        return cls(max(16, min(MEMO_LIMIT, MEMO_CRITERIA // max(1, criteria))), {PER_CRITERION: MEMO_LIMIT})

    def get(self, table: str, key: Hashable, make: Callable[..., T], *args: Any) -> T:
        """The value kept under `key` in `table`, made by `make(*args)` (and kept) if it is not there yet."""
        entries = self.tables.get(table)
        if entries is None:
            entries = self.tables[table] = {}
        try:
            value = entries[key]
            self.hits += 1
            return value
        except KeyError:
            pass
        self.misses += 1
        if len(entries) >= self.limits.get(table, self.limit):
            del entries[next(iter(entries))]          # the oldest (dicts keep insertion order)
        value = entries[key] = make(*args)
        return value

    @property
    def size(self) -> int:
        """The largest table's number of entries (never more than the limit)."""
        return max(map(len, self.tables.values()), default=0)
