"""Output pieces that a worker process writes into the output file itself, where the parent says.

With `batch --jobs N` and JSON Lines written to a file, most applicants' records (about 4.5 KB
each) are made in worker processes. Sent to the parent as text, each byte would be encoded,
pickled, sent through a pipe, read, unpickled and written again by the parent, whose CPU is
taken from the evaluation. Instead, a worker keeps a unit's pieces as UTF-8 bytes
(`PieceWriter.hold`) and sends the parent only their sizes (`HeldPieces`). The parent's own
units (it is one of the N jobs) take the same path, the note handled at once. The parent, taking
the units in input order, reserves each unit's place in the output file, writes itself any piece
it replaces (a duplicate id becomes an error line), and sends the worker a note saying where the
rest goes; the worker writes them there (`os.pwrite` on the output file, inherited through the
fork). The parent writes its last line once every worker has handled its notes and stopped
(workers.run_units), so the file is whole before it is renamed into place. Other outputs (a
pipe, a terminal) get the pieces as text. Figures: docs/performance.md.
"""
from __future__ import annotations

import os
from itertools import accumulate
from typing import IO, Any, Callable, Optional, Sequence

from eligibility.core.errors import OutputError

Places = list[tuple[int, int, int]]      # (offset in the output file, start, end in the unit's bytes)


class HeldPieces:
    """A unit's pieces as the parent sees them: sizes, the pieces it replaces, and the note
    that tells the worker holding them where to write the others."""

    def __init__(self, unit: int, sizes: Sequence[int]):
        self.unit = unit                              # the worker's number for the unit
        self.offsets = [0, *accumulate(sizes)]        # piece i is bytes offsets[i]:offsets[i + 1]
        self.replaced: dict[int, str] = {}
        self.send_note: Optional[Callable[[Any], None]] = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __setitem__(self, i: int, text: str) -> None:
        if not 0 <= i < len(self):
            raise IndexError(i)
        self.replaced[i] = text

    def write_to(self, out: Any) -> None:
        """Reserve the pieces' places in `out` (a render.output.Guarded on a regular file), write
        the replacements, and send the worker the places of the others."""
        if self.send_note is None:
            raise RuntimeError("held pieces that no worker will write")
        places: Places = []
        start = 0
        for i in sorted(self.replaced):
            if self.offsets[i] > start:
                places.append((out.reserve(self.offsets[i] - start), start, self.offsets[i]))
            out.write(self.replaced[i])
            start = self.offsets[i + 1]
        if self.offsets[-1] > start:
            places.append((out.reserve(self.offsets[-1] - start), start, self.offsets[-1]))
        self.send_note((self.unit, places))


class PieceWriter:
    """The worker's side: keeps each unit's bytes until the parent's note says where they go."""

    def __init__(self, fd: int, target: str):
        self.fd, self.target = fd, target
        self.held: dict[int, bytes] = {}
        self.units = 0

    def hold(self, pieces: Sequence[str]) -> HeldPieces:
        sizes = [len(p) if p.isascii() else len(p.encode("utf-8")) for p in pieces]
        self.units += 1
        self.held[self.units] = "".join(pieces).encode("utf-8")
        return HeldPieces(self.units, sizes)

    def write(self, note: tuple[int, Places]) -> None:
        unit, places = note
        data = memoryview(self.held.pop(unit))
        try:
            for offset, start, end in places:
                while start < end:
                    written = os.pwrite(self.fd, data[start:end], offset)
                    offset, start = offset + written, start + written
        except OSError as exc:
            raise OutputError(self.target, exc) from None


def write_pieces(out: IO[str], pieces: Sequence[str] | HeldPieces) -> None:
    """Write a unit's output pieces, a list of strings or HeldPieces, to `out` in order."""
    if isinstance(pieces, HeldPieces):
        pieces.write_to(out)
    else:
        out.write("".join(pieces))
