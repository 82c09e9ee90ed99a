"""The batch decision as CSV: one row per input, in input order.

Columns: input, id, name, final_verdict, basis (official, reported, inferred or calibration: the
weakest rule the verdict rests on), unofficial (yes/no), rank, score, one column per criterion
(`met 30`, `met`, `not met`, `unknown`), failed_gates, reason, basis_note (in words, with the
points' basis), error, path. Rows are
spooled while the batch runs and completed with rank and final verdict at the end.
"""
from __future__ import annotations

import csv
import json
import tempfile
from typing import IO, Any

from eligibility.program.batch import Sink
from eligibility.render.batch_common import criterion_cells
from eligibility.render.explain import entry_basis, program_numbers_note
from eligibility.core.formatting import number
from eligibility.core.text import safe_data

FIXED = ("input", "id", "name", "final_verdict", "basis", "unofficial", "rank", "score")
TAIL = ("failed_gates", "reason", "basis_note", "error", "path")


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
        word, unofficial, words = entry_basis(self.program, entry)
        note = "; ".join(x for x in (words, program_numbers_note(self.program)) if x) if word else ""
        row = [entry.key, entry.id, "" if entry.error else entry.name, entry.verdict, word,
               ("yes" if unofficial else "no") if word else "", "",
               "" if entry.error else f"{number(entry.score)}", *criterion_cells(self.program, entry),
               ";".join(entry.gates_failed), "" if entry.error else entry.reason, note, error, entry.path]
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
                row[3], row[6] = e.final, str(e.rank)
                row[-4] = e.reason
            out.writerow(row)
        self.spool.close()
