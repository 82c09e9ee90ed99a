"""The ranking's one comparison: the keys eligible applicants are ordered by, what placed an
applicant against its neighbours, and which verdicts unknown facts could still change.

Each key gives an entry a sort value; an entry's place is the tuple of its sort values (then its
input position). The same sort values, compared key by key, say what separates two neighbours,
so the explanation cannot disagree with the order. A value that is unknown or absent sorts after
every known value, in either order.

A *best case* entry is what the applicant could still become: its score if every unknown scored
criterion were met ("up to" score), those criteria's points, its unknown gates met, and each
unknown rank value ahead of every known one. A verdict is provisional when a best case could
cross the quota's cut (see `provisional`).
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right, insort
from itertools import chain
from typing import Any, Callable, Sequence

from eligibility.core.formatting import clip, number, value as show
from eligibility.evaluate.assess import SELECTED
from eligibility.language.model import DecisionPolicy, Program, RankKey

Entry = Any     # a decision.Entry (not imported: decision imports this module)
SortValue = Callable[[Entry, bool], Any]     # (entry, best case?) -> what the key sorts on
MAX_NAMED = 3                                  # challengers named in a provisional verdict
NAME_LIMIT = 80                                # characters of a neighbour's name in an explanation


def rank_keys(policy: DecisionPolicy) -> tuple[RankKey, ...]:
    """The keys in order: `rank_by` as written, or score then `tie_breaks` then id."""
    if policy.rank_by:
        return policy.rank_by
    natural = {"name": False, "id": False}
    keys = [RankKey("score", True), *(RankKey(t, natural.get(t, True)) for t in policy.tie_breaks)]
    return tuple(keys) + ((RankKey("id", False),) if "id" not in policy.tie_breaks else ())


def keys_text(keys: Sequence[RankKey]) -> str:
    """The keys as the outputs' headers write them: `score desc, cofinancing_share desc, id`."""
    return ", ".join(k.key if k.key in ("name", "id") else f"{k.key} {k.order}" for k in keys)


class Ranking:
    """The comparison of one program's decision policy."""

    def __init__(self, program: Program):
        self.program = program
        self.keys = rank_keys(program.decision)
        self.value_index = {k: i for i, k in enumerate(program.decision.value_keys)}
        self.scored = [c.id for c in program.criteria if c.kind == "scored"]
        self.sorters = [self._sorter(k) for k in self.keys]

    def _sorter(self, key: RankKey) -> SortValue:
        sign = -1 if key.descending else 1
        if key.key == "score":
            return lambda e, best: sign * (e.score_max if best else e.score)
        if key.key == "criteria_order":
            return lambda e, best: tuple(sign * p for p in (e.awarded_max if best else e.awarded))
        if key.key == "gates_met":
            return lambda e, best: sign * (e.gates_met + (e.gates_open if best else 0))
        if key.key == "name":
            return lambda e, best: e.name.casefold()
        if key.key == "id":
            return lambda e, best: e.id
        index = self.value_index[key.key]

        def fact_value(e: Entry, best: bool) -> tuple[int, Any]:
            rv = e.values[index]
            if rv.value is None:             # unknown: first in a best case; otherwise (and none) last
                return (0, 0) if best and rv.missing else (2, 0)
            return (1, sign * _ordinal(rv.value))
        return fact_value

    def place(self, e: Entry, best: bool = False) -> tuple:
        """What the entry sorts on: every key's sort value, then its input position."""
        return (*(s(e, best) for s in self.sorters), e.key)

    def ranked(self, entries: Sequence[Entry]) -> list[Entry]:
        """The entries in `place` order. Sorted one key at a time, last key first (each sort is
        stable): the same order as sorting on the whole place, but only one key's sort values
        exist at a time, which matters for hundreds of thousands of entries."""
        out = sorted(entries, key=_input_position)
        for s in reversed(self.sorters):
            out.sort(key=lambda e: s(e, False))
        return out

    def deciding(self, ahead: Entry, behind: Entry) -> int | None:
        """The index of the first key on which `ahead` sorts before `behind` (None: input order)."""
        for i, s in enumerate(self.sorters):
            if s(ahead, False) != s(behind, False):
                return i
        return None

    # --- words ------------------------------------------------------------------------------

    def _shown(self, i: int, e: Entry) -> str:
        key = self.keys[i].key
        if key == "score":
            return number(e.score)
        if key == "gates_met":
            return str(e.gates_met)
        if key in ("name", "id"):
            return clip(e.name if key == "name" else e.id, NAME_LIMIT)
        rv = e.values[self.value_index[key]]
        return show(rv.value, unknown="unknown" if rv.missing else "none")

    def _difference(self, i: int, mine: Entry, theirs: Entry) -> str:
        key = self.keys[i].key
        if key == "criteria_order":
            c, a, b = next((c, a, b) for c, a, b in zip(self.scored, mine.awarded, theirs.awarded) if a != b)
            return f"criteria_order ({c} {number(a)} vs {number(b)})"
        return f"{key} {self._shown(i, mine)} vs {self._shown(i, theirs)}"

    def _against(self, word: str, mine: Entry, other: Entry, i: int | None) -> str:
        upto = len(self.keys) if i is None else i
        tied = [self.keys[t].key if self.keys[t].key == "criteria_order" else f"{self.keys[t].key} {self._shown(t, mine)}"
                for t in range(upto)]
        why = "on input order" if i is None else f"on {self._difference(i, mine, other)}"
        return f"{word} {clip(other.name, NAME_LIMIT)} {why}" + (f", tied on {', '.join(tied)}" if tied else "")

    def placement(self, ranked: Sequence[Entry], n: int) -> str:
        """`ranked N of M`, and what placed the n-th entry (0-based) against its neighbours."""
        e, parts = ranked[n], []
        if n > 0:
            parts.append(self._against("behind", e, ranked[n - 1], self.deciding(ranked[n - 1], e)))
        if n + 1 < len(ranked):
            parts.append(self._against("ahead of", e, ranked[n + 1], self.deciding(e, ranked[n + 1])))
        return f"ranked {n + 1} of {len(ranked)}" + (f" ({'; '.join(parts)})" if parts else "")

    def provisional(self, ranked: Sequence[Entry], contenders: Sequence[Entry], quota: int | None) -> None:
        """Mark each verdict that unknown facts could still change, naming those facts.

        With a quota q, a selected entry at rank r is provisional when at least q - r + 1 others
        (ranked below it, or undetermined and not excluded) could in their best case rank ahead of
        it as it stands; an eligible entry past the quota is provisional when its own best case
        would rank within the first q as the others stand. Without a quota nothing is."""
        if quota is None:
            return
        within = [self.place(e) for e in ranked[:quota]]     # ascending: the ranking's order
        # for each place within the quota, how many open entries' best cases come before it (all of
        # them, and those from outside the quota); only counts and the first few outsiders are
        # kept, so memory does not grow with the number of entries
        ahead, outside_ahead = _Ahead(within), _Ahead(within)
        first: list[tuple[tuple, int, Entry]] = []          # the outsiders' best places, best first
        for n, c in enumerate(chain(ranked, contenders)):
            if not _open(c):
                continue
            best = self.place(c, best=True)
            ahead.add(best)
            if n >= len(within):     # an entry leaves the quota only if someone from outside it comes in
                outside_ahead.add(best)
                if len(first) < MAX_NAMED or best < first[-1][0]:
                    insort(first, (best, n, c))      # (places are unique: entries are never compared)
                    del first[MAX_NAMED:]
        open_above = 0
        for r, (e, place) in enumerate(zip(ranked, within), start=1):
            # every open entry ranked above this one can rank above it at best: they are not rivals
            own = _open(e) and self.place(e, best=True) < place
            if ahead.before(r - 1) - open_above - own >= quota - r + 1:
                rivals = outside_ahead.before(r - 1)
                e.provisional = f"could lose its place if {_named([c for _, _, c in first[:rivals]], rivals)} rise above it"
            open_above += _open(e)
        if within and len(within) == quota:
            for e in ranked[quota:]:
                if _open(e) and self.place(e, best=True) < within[-1]:
                    e.provisional = f"could still come within the quota (missing: {_facts(e)})"


class _Ahead:
    """How many of the places added sort before each of a few sorted places."""

    def __init__(self, places: Sequence[tuple]):
        self.places = places
        # counts[k]: the added places that sort before places[k] but not before places[k - 1]
        self.counts = [0] * (len(places) + 1)

    def add(self, place: tuple) -> None:
        self.counts[bisect_right(self.places, place)] += 1

    def before(self, i: int) -> int:
        """How many added places sort before places[i]."""
        return sum(self.counts[:i + 1])


def _open(e: Entry) -> bool:
    """Whether unknown facts could still move the entry up: for an eligible entry, whether its best
    case differs from where it stands (an unknown fact of a criterion that cannot change its score,
    its gates or its rank values cannot move it); for any other, whether it has unknown facts."""
    if e.verdict == SELECTED:
        return (e.score_max != e.score or e.awarded_max != e.awarded or e.gates_open > 0
                or any(rv.missing for rv in e.values))
    return bool(e.open_facts) or any(rv.missing for rv in e.values)


def _named(rivals: Sequence[Entry], total: int) -> str:
    """The first rivals by name, and how many more of the `total` there are."""
    shown = [f"{clip(c.name, NAME_LIMIT)} (missing: {_facts(c)})" for c in rivals[:MAX_NAMED]]
    more = total - MAX_NAMED
    if more > 0:
        return ", ".join(shown) + f" or {more} more"
    return " or ".join(shown) if len(shown) < 3 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _facts(e: Entry) -> str:
    facts = dict.fromkeys([*e.open_facts, *(f for rv in e.values for f in rv.missing)])
    return ", ".join(facts)


def _input_position(e: Entry) -> int:
    return e.key


def _ordinal(value: Any) -> Any:
    """A rank value as a number: dates (as records write them, ISO text) by their day number."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return value.toordinal() if isinstance(value, dt.date) else value
