"""The batch decision as one JSON document (schema `eligibility.batch/1`).

`applicants` lists the evaluation records (as `check --format json`) in decision order
(ranked first, then undetermined, excluded), each with `rank`, `final_verdict` and
`final_reason` added (and, when the rules rank with `rank_by`, `placement`: what placed it
against its neighbours, and `provisional`: which unknown facts could still change its final
verdict); `errors` lists the inputs that could not be evaluated. Records are
spooled to a temporary file while the batch runs, so memory does not grow with them.
"""
from __future__ import annotations

import json
import tempfile
from typing import IO, Any

from eligibility.program.batch import Sink, decision_dict
from eligibility.render.batch_jsonl import error_dict

SCHEMA = "eligibility.batch/1"


def json_piece(row, rec) -> bytes:
    """The record (a records.RecordView) as indented JSON bytes, or b"" for an error (runs in the worker process)."""
    if rec is None:
        return b""
    return rec.as_json().encode("utf-8")


class JsonSink(Sink):
    def __init__(self, fh: IO[str]):
        self.fh = fh
        self.spool = tempfile.TemporaryFile()
        self.offsets = [0]

    wants_entries = False          # only the pieces are written
    needs_record = True
    piece = staticmethod(json_piece)

    def add(self, entry, piece: Any) -> None:
        self.offsets.append(self.offsets[-1] + self.spool.write(piece))

    def finish(self, result) -> None:
        out = self.fh
        head = {"schema": SCHEMA, **decision_dict(result)}
        out.write(json.dumps(head, ensure_ascii=False, indent=2)[:-2] + ',\n  "applicants": [')
        first = True
        for e in result.decision.ordered():
            if e.final == "error":
                continue
            self.spool.seek(self.offsets[e.key])
            rec = json.loads(self.spool.read(self.offsets[e.key + 1] - self.offsets[e.key]))
            rec.update(rank=e.rank, final_verdict=e.final, final_reason=e.reason)
            if result.decision.rank_by:
                rec.update(placement=e.placement or None, provisional=e.provisional or None)
            text = json.dumps(rec, ensure_ascii=False, indent=2)
            out.write(("\n" if first else ",\n") + "    " + text.replace("\n", "\n    "))
            first = False
        out.write(("\n  " if not first else "") + '],\n  "errors": ')
        errors = [error_dict(e) for e in result.decision.entries if e.final == "error"]
        out.write(json.dumps(errors, ensure_ascii=False, indent=2).replace("\n", "\n  ") + "\n}\n")
        self.spool.close()
