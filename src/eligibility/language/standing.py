"""What a verdict rests on: the weakest basis among the rules and numbers that decide it.

A verdict is only as official as the weakest rule it rests on; `verdict_basis` names that rule's
basis in one word, so a reader can filter verdicts that do not rest on published official text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from eligibility.language.basis import BASES, BASIS_MEANING, SECONDHAND_KINDS, Basis
from eligibility.language.model import Applicant, Program


# how `rests_on` names the published criterion that set a verdict
PUBLISHED_LABEL = "published decision"


def weakest(kinds: Sequence[str]) -> str:
    """The weakest basis among `kinds` ("official" when there are none)."""
    return max(kinds, key=BASES.index, default="official")


@dataclass(frozen=True)
class VerdictBasis:
    """The basis of a verdict: `word` is filterable (one of BASES); `rests_on` names each rule or
    number the verdict rests on with its basis; `secondhand_facts` are deciding facts whose only
    evidence is press or analysis."""

    word: str
    rests_on: tuple[tuple[str, str], ...]     # (what, basis kind), e.g. ("gate foreign_independence", "reported")
    notes: tuple[str, ...] = ()
    secondhand_facts: tuple[str, ...] = ()

    @property
    def unofficial(self) -> bool:
        return self.word != "official" or bool(self.secondhand_facts)

    def summary(self, notes: bool = True) -> str:
        """One sentence: what the verdict rests on, in words (with the rules' notes, if asked)."""
        parts = []
        for kind in BASES:
            names = [what for what, k in self.rests_on if k == kind]
            if names:
                parts.append(f"{BASIS_MEANING[kind]} ({', '.join(names)})")
        text = "rests on " + "; ".join(parts) if parts else "rests on no declared rule"
        if notes and self.notes:
            text += ": " + "; ".join(self.notes)
        if self.secondhand_facts:
            text += f"; facts known only from press or analysis: {', '.join(self.secondhand_facts)}"
        return text

    def as_dict(self) -> dict:
        return {"basis": self.word, "unofficial": self.unofficial,
                "rests_on": [{"what": what, "basis": kind} for what, kind in self.rests_on],
                "notes": list(self.notes), "secondhand_facts": list(self.secondhand_facts),
                "summary": self.summary()}


def points_basis(program: Program) -> str:
    """The weakest basis of the scored criteria's points ("" when nothing is scored)."""
    kinds = [c.points_basis.kind for c in program.criteria if c.kind == "scored" and c.points_basis]
    if any(c.kind == "scored" and not c.points_basis for c in program.criteria):
        kinds.append("calibration")        # undeclared points are the analyst's choice
    return weakest(kinds) if kinds else ""


def _basis_kind(basis: Basis | None) -> str:
    return basis.kind if basis else "calibration"   # undeclared: the analyst's own choice


def verdict_basis(program: Program, verdict: str, outcomes: Sequence[str],
                  secondhand_facts: Sequence[str] = (), published_by: str = "") -> VerdictBasis:
    """The rules a verdict rests on, given each criterion's outcome (in rules order): the
    published criterion `published_by` when it set the verdict; else the failed gates for an
    exclusion on a gate; else every gate, and the points and threshold when they decide (a score
    compared with a threshold above zero)."""
    rests: list[tuple[str, str]] = []
    notes: list[str] = []
    if published_by:
        c = program.criterion(published_by)
        return VerdictBasis(_basis_kind(c.basis), ((f"{PUBLISHED_LABEL} {c.id}", _basis_kind(c.basis)),),
                            (c.basis.note,) if c.basis and c.basis.note else (), tuple(secondhand_facts))
    criteria = list(zip(program.criteria, outcomes))
    failed = [c for c, o in criteria if c.kind == "gate" and o == "not_met"]
    open_gates = [c for c, o in criteria if c.kind == "gate" and o == "unknown"]
    if verdict == "excluded" and failed:
        gates = failed
    elif verdict == "undetermined" and open_gates:
        gates = open_gates
    else:
        gates = [c for c, _ in criteria if c.kind == "gate"]
    for c in gates:
        rests.append((f"gate {c.id}", _basis_kind(c.basis)))
        if c.basis and c.basis.note:
            notes.append(c.basis.note)
    scored = any(c.kind == "scored" for c in program.criteria)
    by_score = not (verdict == "excluded" and failed) and not (verdict == "undetermined" and open_gates)
    if scored and by_score and program.decision.threshold:
        pb = points_basis(program)
        rests.append(("points", pb))
        rests.append(("threshold", _basis_kind(program.threshold_basis())))
    return VerdictBasis(weakest([k for _, k in rests]), tuple(rests), tuple(dict.fromkeys(notes)),
                        tuple(secondhand_facts))


def secondhand_facts(program: Program, applicant: Applicant, as_of: str | None,
                     rests_on: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Facts read by the rules a verdict rests on whose evidence (published by `as_of`) is only
    press or analysis. Facts given without evidence (JSON Lines, CSV) are not judged."""
    if applicant.described_by_values:
        return ()
    gates = {what.rsplit(" ", 1)[1] for what, _ in rests_on if what.startswith(("gate ", PUBLISHED_LABEL + " "))}
    scored = any(what == "points" for what, _ in rests_on)
    facts: set[str] = set()
    for c in program.criteria:
        if c.id in gates or (scored and c.kind == "scored"):
            facts |= program.facts_read(c.condition)
    out = []
    for name in sorted(facts):
        fv = applicant.fact(name, as_of)
        if fv is None or not fv.known or name in applicant.overrides:
            continue
        kinds = [e.kind for e in fv.evidence if not e.published_after(applicant.cutoff(as_of))]
        if kinds and all(k in SECONDHAND_KINDS for k in kinds):
            out.append(name)
    return tuple(out)
