"""The evaluation records of a report, kept in a temporary file while the batch runs.

`eligibility report` over many applicants must not hold every record (about 100 KB each with its
trace, in memory): each record is written to the spool as JSON as it comes, and only where it lies
and the little the tables and the chart need (score_max, criterion outcomes: shared between
applicants with the same ones) stay in memory. The page then reads each trace back in turn.
"""
from __future__ import annotations

import json
import tempfile
from array import array
from typing import Any, Optional

from eligibility.program.batch import BatchEntry, Row, Sink
from eligibility.records.record import RecordView, compact_json
from eligibility.render.html import brief_of


def spool_piece(row: Row, rec: Optional[RecordView]) -> Optional[tuple[str, tuple]]:
    """A record as (JSON text, brief): made in the worker process, so the parent only writes it."""
    if rec is None:
        return None
    data = rec.as_dict()
    return compact_json(data), brief_of(data)


class RecordSpool(Sink):
    """A batch sink that keeps records (with their traces) in a temporary file, by input key; it
    reads like html.Records."""

    needs_record = True
    piece = staticmethod(spool_piece)

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+b")
        self._offset = array("q")
        self._size = array("q")
        self._brief: list[tuple] = []
        self._shared: dict[tuple, tuple] = {}
        self._first: Optional[dict] = None
        self._end = 0
        self._count = 0

    def add(self, entry: BatchEntry, piece: Any) -> None:
        while len(self._offset) <= entry.key:     # error inputs have no record
            self._offset.append(-1)
            self._size.append(0)
            self._brief.append(())
        if piece is None:
            return
        text, brief = piece
        data = text.encode("utf-8")
        self._file.seek(self._end)
        self._file.write(data)
        self._offset[entry.key], self._size[entry.key] = self._end, len(data)
        self._end += len(data)
        self._brief[entry.key] = self._shared.setdefault(brief, brief)
        self._count += 1
        if self._first is None:
            self._first = json.loads(text)

    def record(self, key: int) -> dict:
        self._file.seek(self._offset[key])
        return json.loads(self._file.read(self._size[key]).decode("utf-8"))

    def brief(self, key: int) -> tuple:
        return self._brief[key]

    def first(self) -> dict:
        return self._first or {}

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "RecordSpool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
