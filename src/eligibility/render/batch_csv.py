"""The batch decision as CSV: one row per input, in input order.

Columns: input, id, name, final_verdict, rank, score, one column per criterion
(`met 30`, `met`, `not met`, `unknown`), failed_gates, reason, error, path. Rows are
spooled while the batch runs and completed with rank and final verdict at the end.
"""
from __future__ import annotations

import csv
import json
import tempfile
from typing import IO, Any

from eligibility.program.batch import Sink
from eligibility.render.batch_common import criterion_cells
from eligibility.core.formatting import number
from eligibility.core.text import safe_data

FIXED = ("input", "id", "name", "final_verdict", "rank", "score")
TAIL = ("failed_gates", "reason", "error", "path")


def header(program) -> list[str]:
    return [*FIXED, *(c.id for c in program.criteria), *TAIL]


class CsvSink(Sink):
    def __init__(self, fh: IO[str], program):
        self.fh, self.program = fh, program
        # one JSON array per row: read back line by line, with no limit on a cell's size (the csv
        # module's reader has one, 128 KiB, and a long name or error message can pass it)
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")

    def add(self, entry, piece: Any) -> None:
        err = entry.error or {}
        where = f"{err['path']}:{err['line']}" if err.get("line") else err.get("path", "")
        error = f"{where}: {err['message']}" if err else ""
        row = [entry.key, entry.id, "" if entry.error else entry.name, entry.verdict, "",
               "" if entry.error else f"{number(entry.score)}", *criterion_cells(self.program, entry),
               ";".join(entry.gates_failed), "" if entry.error else entry.reason, error, entry.path]
        self.spool.write(json.dumps(safe_data(row)) + "\n")

    def finish(self, result) -> None:
        ranked = {e.key: e for e in result.decision.entries if e.rank is not None}
        out = csv.writer(self.fh)
        out.writerow(header(self.program))
        self.spool.seek(0)
        for line in self.spool:
            row = json.loads(line)
            e = ranked.get(row[0])
            if e is not None:
                row[3], row[4] = e.final, str(e.rank)
                row[-3] = e.reason
            out.writerow(row)
        self.spool.close()
