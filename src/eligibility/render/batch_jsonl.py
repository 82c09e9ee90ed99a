"""The batch decision as JSON Lines, written as the applicants are evaluated.

Line 1..N, one per input in input order: the evaluation record of `check --format json`
(schema `eligibility.evaluation/1`, without `trace` unless asked), or for an input that
could not be read an error line (schema `eligibility.error/1`: input, path, line, col,
message). The last line (schema `eligibility.batch-summary/1`) carries the program, the
decision policy, the counts and the ranking: `{input, id, rank, final_verdict}` for every
applicant who passed the gates and threshold, best first (with `placement` and `provisional`
when the rules rank with `rank_by`). An applicant missing from the
ranking keeps its record's verdict as the final one.
"""
from __future__ import annotations

from typing import IO, Any

from eligibility.program.batch import Sink, decision_dict
from eligibility.program.heldpieces import write_pieces
from eligibility.records.record import compact_json as _dumps, json_string as _string

ERROR_SCHEMA = "eligibility.error/1"
SUMMARY_SCHEMA = "eligibility.batch-summary/1"
RANKING_CHUNK = 4096        # ranking items written at a time
# a ranking item: the text _dumps makes of {"input", "id", "rank", "final_verdict"} (tested)
_RANKING_ITEM = '{"input":%d,"id":%s,"rank":%d,"final_verdict":%s}'


def _item(e) -> str:
    return _RANKING_ITEM % (e.key, _string(e.id), e.rank, _string(e.final))


def _explained_item(e) -> str:
    """A ranking item with what placed the applicant and what could still change its verdict (rank_by)."""
    return _item(e)[:-1] + ',"placement":%s,"provisional":%s}' % (
        _string(e.placement), _string(e.provisional) if e.provisional else "null")


def error_dict(row) -> dict:
    """The output of an input that could not be evaluated (a batch Row or entry with an error)."""
    return {"schema": ERROR_SCHEMA, "input": row.key, "verdict": "error", **row.error}


def jsonl_piece(row, rec) -> str:
    """One output line (runs in the worker process); `rec` is a records.RecordView or None."""
    return rec.as_json(newline=True) if rec is not None else _dumps(error_dict(row)) + "\n"


class JsonlSink(Sink):
    wants_entries = False          # only the pieces are written
    needs_record = True
    piece = staticmethod(jsonl_piece)

    def __init__(self, fh: IO[str]):
        self.fh = fh
        fd = fh.positional() if hasattr(fh, "positional") else None
        self.output_file = None if fd is None else (fd, fh.target)

    def add(self, entry, piece: Any) -> None:
        self.fh.write(piece)

    def add_pieces(self, pieces) -> None:
        write_pieces(self.fh, pieces)

    def finish(self, result) -> None:
        ranked = result.decision.ranking
        head = _dumps({"schema": SUMMARY_SCHEMA, **decision_dict(result), "ranking": []})
        # the ranking (one item per eligible applicant, possibly hundreds of thousands) is written
        # a few thousand items at a time rather than built whole in memory: the same JSON text
        self.fh.write(head[:-2])
        item = _explained_item if result.decision.rank_by else _item
        for start in range(0, len(ranked), RANKING_CHUNK):
            self.fh.write(("," if start else "") + ",".join(map(item, ranked[start:start + RANKING_CHUNK])))
        self.fh.write("]}\n")
