"""Helpers shared by the batch renderers: criterion columns, cell text, error rows."""
from __future__ import annotations

from typing import Any
from eligibility.core.formatting import OUTCOME_LABEL, number

def criterion_cell(kind: str, outcome: str, awarded: Any) -> str:
    """`met 30` for a scored criterion, `met` for a gate; `unknown` / `not met` otherwise."""
    text = OUTCOME_LABEL.get(outcome, outcome)
    if kind == "scored" and outcome == "met":
        text += f" {number(awarded)}"
    return text


def criterion_cells(program, entry) -> list[str]:
    """One cell per criterion of the program, in rules order (empty for an error entry)."""
    if not entry.outcomes:
        return [""] * len(program.criteria)
    awarded = iter(entry.awarded)
    cells = []
    for c, outcome in zip(program.criteria, entry.outcomes):
        pts = next(awarded) if c.kind == "scored" else 0
        cells.append(criterion_cell(c.kind, outcome, pts))
    return cells


def score_text(entry) -> str:
    return "" if entry.final == "error" else f"{number(entry.score)}"


def rank_text(entry) -> str:
    return "" if entry.rank is None else str(entry.rank)
