"""The basis of a rule or a number: who says so (the authority, the press, an analysis, the analyst)."""
from __future__ import annotations

from dataclasses import dataclass

# Strongest first: a verdict's basis is the last of these among the rules it rests on.
BASES = ("official", "reported", "inferred", "calibration")
BASIS_MEANING = {
    "official": "official text",
    "reported": "a press reading",
    "inferred": "an analysis inferred by this project",
    "calibration": "this project's calibration, not published",
}
# Evidence kinds that, on their own, leave a fact resting on no first-hand statement.
SECONDHAND_KINDS = ("press", "analysis")


@dataclass(frozen=True)
class Basis:
    """Who stands behind a rule or a number, with an optional clause or note."""

    kind: str
    note: str = ""

    def words(self) -> str:
        return BASIS_MEANING[self.kind] + (f" ({self.note})" if self.note else "")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "note": self.note or None}
