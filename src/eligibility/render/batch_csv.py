"""The batch decision as CSV: one row per input, in input order.

Columns: input, id, name, final_verdict, rank, score, one column per criterion
(`met 30`, `met`, `not met`, `unknown`), failed_gates, reason, error, path. Rows are
spooled while the batch runs and completed with rank and final verdict at the end.
"""
from __future__ import annotations

import csv
import tempfile
from typing import IO, Any

from eligibility.program.batch import Sink
from eligibility.render.batch_common import criterion_cells
from eligibility.core.formatting import number

FIXED = ("input", "id", "name", "final_verdict", "rank", "score")
TAIL = ("failed_gates", "reason", "error", "path")


def header(program) -> list[str]:
    return [*FIXED, *(c.id for c in program.criteria), *TAIL]


class CsvSink(Sink):
    def __init__(self, fh: IO[str], program):
        self.fh, self.program = fh, program
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self.writer = csv.writer(self.spool)

    def add(self, entry, piece: Any) -> None:
        err = entry.error or {}
        where = f"{err['path']}:{err['line']}" if err.get("line") else err.get("path", "")
        error = f"{where}: {err['message']}" if err else ""
        self.writer.writerow([entry.key, entry.id, "" if entry.error else entry.name, entry.verdict, "",
                              "" if entry.error else f"{number(entry.score)}", *criterion_cells(self.program, entry),
                              ";".join(entry.gates_failed), "" if entry.error else entry.reason, error, entry.path])

    def finish(self, result) -> None:
        ranked = {e.key: e for e in result.decision.entries if e.rank is not None}
        out = csv.writer(self.fh)
        out.writerow(header(self.program))
        self.spool.seek(0)
        for row in csv.reader(self.spool):
            e = ranked.get(int(row[0]))
            if e is not None:
                row[3], row[4] = e.final, str(e.rank)
                row[-3] = e.reason
            out.writerow(row)
        self.spool.close()
