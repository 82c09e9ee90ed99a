"""The program's decision over all applicants: ranking, quota and final verdicts.

Applicants who pass every gate and the threshold are ranked by the rules file's `rank_by`
keys, or else by score (highest first) with ties broken by `tie_breaks`, in order:

* `criteria_order`: points awarded per scored criterion, compared in the order the
  criteria are listed (the first listed criterion matters most);
* `gates_met`: more gates met first;
* `name`: applicant name, alphabetical (case-insensitive);
* `id`: applicant id, alphabetical (always applied last, so the order is total);
* with `rank_by`, also a fact or computed value, highest or lowest first (unknown last).

The first `quota` ranked applicants are `selected`; the others are
`eligible-not-selected`. Excluded, undetermined and error records keep their verdict
and get no rank. The comparison, the explanation of each place and provisional verdicts
are in ranking.py.
"""
from __future__ import annotations

import heapq
import sys
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from types import SimpleNamespace
from typing import Any

from eligibility.evaluate.assess import EXCLUDED, PUBLISHED, SELECTED, UNDETERMINED, UNKNOWN, Assessment
from eligibility.evaluate.rankvalues import RankValue
from eligibility.language.model import Program, RankKey
from eligibility.program.ranking import Ranking, keys_text

NOT_SELECTED, ERROR = "eligible-not-selected", "error"
VERDICTS = (SELECTED, NOT_SELECTED, UNDETERMINED, EXCLUDED, ERROR)
RANKED_OR_CONTENDING = (SELECTED, UNDETERMINED)   # verdicts the decision reads (undetermined: provisional verdicts)


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
    why: str = ""                     # the reason of `verdict` (its final reason is `reason`)
    gates_failed: tuple[str, ...] = ()
    rank: int | None = None
    final: str = ""                   # verdict after ranking and quota
    # what unknown facts could still make of it (see ranking.py), and its rank_by values
    score_max: float = 0
    awarded_max: tuple[float, ...] = ()
    gates_open: int = 0               # gates unknown
    open_facts: tuple[str, ...] = ()  # the unknown facts of its unknown criteria
    values: tuple[RankValue, ...] = ()
    placement: str = ""               # `ranked N of M` and what placed it against its neighbours (rank_by)
    provisional: str = ""             # which unknown facts could still change its final verdict
    published_by: str = ""            # the published criterion that set `verdict`, if one did
    cut: tuple[int, int | None] | None = None   # once ranked: (eligible entries, quota), shared

    @property
    def reason(self) -> str:
        """The reason of the final verdict: for a ranked entry its place against the quota and why
        it is eligible (`final_reason`, made when asked: a large batch writes few of them), else
        the reason of its verdict."""
        if self.rank is None or self.cut is None:
            return self.why
        return final_reason(self, *self.cut)


@dataclass
class Decision:
    entries: list[Entry]
    quota: int | None
    threshold: float
    tie_breaks: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    ranking: list[Entry] = field(default_factory=list)     # the ranked entries, in rank order
    rank_by: tuple[RankKey, ...] = ()                      # the keys as written (and id), when rank_by is used

    def policy_words(self) -> str:
        """How the ranking is ordered, for the outputs' headers."""
        return f"ranked by {keys_text(self.rank_by)}" if self.rank_by else \
            f"ties broken by {', '.join(self.tie_breaks) or 'id'}"

    def ordered(self) -> list[Entry]:
        """Ranked applicants first, then undetermined, excluded and errors (each by score, then name)."""
        order = {v: i for i, v in enumerate(VERDICTS)}
        return sorted(self.entries, key=lambda e: (order[e.final], e.rank if e.rank is not None else 0,
                                                   -e.score, e.name.casefold(), e.id, e.key))


def prospects(s: Assessment) -> dict[str, Any]:
    """The Entry fields that say what unknown facts could still make of an assessment (or of
    anything with its `score_max`, `verdict` and `criteria`). A published decision settles only a
    verdict the other criteria leave undetermined, so the facts of a published criterion are open
    for an undetermined applicant only."""
    return {"score_max": s.score_max, "awarded_max": tuple(
                c.points if c.outcome == UNKNOWN else c.awarded for c in s.criteria if c.kind == "scored"),
            "gates_open": sum(c.kind == "gate" and c.outcome == UNKNOWN for c in s.criteria),
            "open_facts": tuple(dict.fromkeys(f for c in s.criteria for f in c.missing
                                              if c.kind != PUBLISHED or s.verdict == UNDETERMINED))}


def entry_from_record(key: int, rec: dict) -> Entry:
    """The ranking entry of an evaluation record (see record.evaluation_record)."""
    criteria = [SimpleNamespace(**c) for c in rec["criteria"]]
    scored = [c for c in criteria if c.kind == "scored"]
    return Entry(key=key, id=rec["applicant"]["id"], name=rec["applicant"]["name"], verdict=rec["verdict"],
                 score=rec["score"], awarded=tuple(c.awarded for c in scored),
                 gates_met=sum(c.kind == "gate" and c.outcome == "met" for c in criteria), why=rec["reason"],
                 gates_failed=tuple(rec["gates_failed"]),
                 values=tuple(RankValue(v["value"], tuple(v["missing"])) for v in rec.get("rank_keys", {}).values()),
                 **prospects(SimpleNamespace(score_max=rec["score_max"], verdict=rec["verdict"], criteria=criteria)))


class _Later:
    """A place in a heap that keeps the worst place on top (heapq keeps the smallest)."""

    __slots__ = ("place",)

    def __init__(self, place: tuple):
        self.place = place

    def __lt__(self, other: "_Later") -> bool:
        return other.place < self.place


class Pool:
    """The entries a decision reads, gathered as a batch streams: every eligible entry (each gets a
    rank), and, with a quota, each undetermined entry whose best case could still rank within the
    quota against the eligible entries gathered so far. The quota's cut only moves up as more
    eligible entries arrive, so an undetermined entry left out then could not rank within it at the
    end either, and `decide` gives the same decision as with every undetermined entry kept."""

    def __init__(self, program: Program):
        self.ranking = Ranking(program)
        self.quota = program.decision.quota
        self.entries: list[Entry] = []
        self._cut: list[_Later] = []      # the places of the `quota` best eligible entries so far

    def add(self, e: Entry) -> None:
        if e.verdict == SELECTED:
            self.entries.append(e)
            if self.quota:
                later = _Later(self.ranking.place(e))
                if len(self._cut) < self.quota:
                    heapq.heappush(self._cut, later)
                elif later.place < self._cut[0].place:
                    heapq.heapreplace(self._cut, later)
        elif e.verdict == UNDETERMINED and self.quota is not None and self.could_reach(e):
            self.entries.append(e)

    def could_reach(self, e: Entry) -> bool:
        if len(self._cut) < (self.quota or 0):
            return True
        return bool(self._cut) and self.ranking.place(e, best=True) < self._cut[0].place


def decide(program: Program, entries: list[Entry]) -> Decision:
    """Rank the eligible entries, apply the quota, and say which verdicts are provisional."""
    policy = program.decision
    ranking = Ranking(program)
    eligible = ranking.ranked([e for e in entries if e.verdict == SELECTED])
    for i, e in enumerate(eligible, start=1):
        e.rank = i
        e.final = SELECTED if policy.quota is None or i <= policy.quota else NOT_SELECTED
    ranking.provisional(eligible, [e for e in entries if e.verdict == UNDETERMINED], policy.quota)
    cut = (len(eligible), policy.quota)
    for i, e in enumerate(eligible):
        if policy.rank_by:
            e.placement = ranking.placement(eligible, i)
        e.cut = cut
    for e in entries:
        if e.verdict != SELECTED:
            e.final = e.verdict
    finals = Counter(map(attrgetter("final"), entries))
    counts = {v: finals[v] for v in VERDICTS}
    counts["total"] = len(entries)
    return Decision(entries=entries, quota=policy.quota, threshold=policy.threshold,
                    tie_breaks=policy.tie_breaks, counts=counts, ranking=eligible,
                    rank_by=policy.rank_by)


def final_reason(e: Entry, eligible: int, quota: int | None) -> str:
    """The reason of a ranked entry's final verdict: its place (with what placed it, under rank_by),
    the quota, the reason it is eligible, and whether unknown facts could still change it."""
    why = e.why.removeprefix("selected: ")
    if e.final == SELECTED:
        text = f"selected, {e.placement}: {why}" if e.placement else e.why
    else:
        place = f"ranked {e.rank} of {eligible}"
        place = (e.placement or place).replace(place, place + " eligible", 1)
        text = f"eligible, not selected: {place}, past the quota of {quota} ({why})"
    return text + (f"; provisional: {e.provisional}" if e.provisional else "")


def policy_dict(d: Decision) -> dict[str, Any]:
    """The decision policy as the JSON outputs write it (`rank_by` only when the rules use it)."""
    out: dict[str, Any] = {"quota": d.quota, "threshold": d.threshold, "tie_breaks": list(d.tie_breaks)}
    if d.rank_by:
        out["rank_by"] = [{"key": k.key, "order": k.order} for k in d.rank_by]
    return out
