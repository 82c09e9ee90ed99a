"""Batch scoring: stream applicants from files, evaluate each, rank them and apply the quota.

    from eligibility import api
    from eligibility.program import batch
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    result = batch.run_batch(program, ["applicants/"])
    [(e.name, e.final, e.rank) for e in result.decision.ordered()]

Inputs are YAML profile files, directories of them, JSON Lines and CSV files, or `-` for
stdin (inputs.py reads them, in units of work).

Every input becomes exactly one entry, in input order: an evaluated applicant, or an
`error` entry (unreadable or invalid file, bad JSON line, bad CSV row, duplicate id) with
its file, line and message. Nothing is dropped: `results + errors == inputs`.

Memory stays flat in the number of applicants: inputs are read lazily, the output pieces
(record lines, CSV rows) of each unit of work go to the `sink` as soon as the unit is done,
and only the small ranking entries are kept, only for the applicants who can be ranked
when `keep_all` is false. With `jobs > 1`, units go to worker processes (workers.py: each
compiles the rules once and keeps one durable engine); results come back in input order.
"""
from __future__ import annotations

import itertools
from functools import partial
from array import array
from collections import Counter
from operator import itemgetter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence

from eligibility.program import decision as dec
from eligibility.evaluate.evaluator import Evaluator
from eligibility.language.profile import OVERRIDE_LABEL, apply_overrides
from eligibility.core.errors import EngineError, InputError, Problem
from eligibility.evaluate.assess import Evaluation
from eligibility.program.inputs import Item, Unit, iter_units, parse_items, unit_items
from eligibility.language.model import Applicant, Program
from eligibility.records.record import PendingRecord, RecordEncoder, program_info

@dataclass(**dec.SLOTS)
class BatchEntry(dec.Entry):
    """A ranking entry plus what the table needs (criterion outcomes) and, for errors, where."""

    outcomes: tuple[str, ...] = ()
    path: str = ""
    error: Optional[dict] = None      # {"path", "line", "col", "message"} for error entries


# What a worker returns per input instead of a BatchEntry (cheaper to make and to send between
# processes): the BatchEntry's fields in order, made into an entry only where one is needed.
Row = tuple
_ERROR_FIELD = 13          # index of BatchEntry.error in a Row
GROUP = 32                 # inputs evaluated together (Evaluator.evaluate_all)


@dataclass
class BatchResult:
    program: Program
    decision: dec.Decision
    summary: dict[str, int]
    errors: list[dict] = field(default_factory=list)
    as_of: str | None = None


# --- evaluation ---------------------------------------------------------------------------

Formatter = Callable[[BatchEntry, Optional[PendingRecord]], Any]
Result = tuple[Row, Any]   # (row, output piece) of one input


class UnitResult(NamedTuple):
    """What a worker sends back for a unit of work: one row per input, and the output pieces,
    as a list or, when every piece is text, as one string (`ends` gives where each piece ends):
    one object to send between processes instead of hundreds."""

    rows: list[Row]
    pieces: Any                 # list, or str
    ends: Any = None            # array of end offsets when `pieces` is one str

    @classmethod
    def of(cls, results: list[Result], join: bool = True) -> "UnitResult":
        """`join`: make text pieces one str, to send to another process."""
        if not results:
            return cls([], [])
        rows, pieces = map(list, zip(*results))
        if join and set(map(type, pieces)) == {str}:
            return cls(rows, "".join(pieces), array("q", itertools.accumulate(map(len, pieces))))
        return cls(rows, pieces)

    def piece_list(self) -> list[Any]:
        if self.ends is None:
            return self.pieces
        text, starts = self.pieces, [0, *self.ends[:-1]]
        return [text[a:b] for a, b in zip(starts, self.ends)]


class Worker:
    """Evaluates items into (row, output piece); one per process, compiling the rules once."""

    def __init__(self, program: Program, engine: str = "durable", as_of: str | None = None,
                 settings: Mapping[str, Any] | None = None, formatter: Formatter | None = None,
                 trace: bool = False, records: bool = False, command: list[str] | None = None,
                 slim: bool = False, settings_label: str = OVERRIDE_LABEL):
        self.program = program
        self.command = command
        self.evaluator = Evaluator(program, engine)
        self.as_of, self.settings = as_of, dict(settings or {})
        self.formatter, self.trace = formatter, trace
        self.records = records or trace
        self.encoder = RecordEncoder(command)
        self.slim = slim
        self.settings_label = settings_label

    def process(self, unit: Unit, join: bool = True) -> UnitResult:
        """Every input of a unit of work, GROUP at a time (see Evaluator.evaluate_all); rows of
        applicants who cannot be selected are slim (see `slim_row`) when `slim` says that the run
        only counts them. `join`: see UnitResult.of."""
        items = list(unit_items(unit))
        out: list[Result] = []
        for start in range(0, len(items), GROUP):
            out += self.group(items[start:start + GROUP])
        return UnitResult.of(out, join)

    def group(self, items: Sequence[Item]) -> list[Result]:
        """The (row, output piece) of each item: read them all, evaluate the readable ones together."""
        parsed = parse_items(items, self.program)
        if self.settings:
            parsed = [self._overridden(a) for a in parsed]
        evaluations = iter(self.evaluator.evaluate_all([a for a in parsed if not isinstance(a, InputError)],
                                                       self.as_of, trace=self.trace))
        out: list[Result] = []
        for item, applicant in zip(items, parsed):
            if isinstance(applicant, InputError):
                out.append(self._error(error_entry(item, applicant.problems)))
                continue
            ev = next(evaluations)
            if isinstance(ev, EngineError):   # one applicant's engine failure: an error entry, the batch goes on
                out.append(self._error(error_entry(item, [Problem(applicant.path, item.line, 0, f"engine failure: {ev}")])))
            else:
                out.append(self._result(item.key, ev))
        return out

    def _overridden(self, applicant: Applicant | InputError) -> Applicant | InputError:
        if isinstance(applicant, InputError):
            return applicant
        try:
            return apply_overrides(applicant, self.program, self.settings, label=self.settings_label)
        except InputError as exc:
            return exc

    def _result(self, key: int, ev: Evaluation) -> Result:
        rec = PendingRecord(ev, self.trace, self.encoder) if self.records else None
        if self.slim and ev.verdict != dec.SELECTED:
            a = ev.applicant
            row = slim_row(key, a.id, ev.verdict, a.path)
        else:
            row = row_of(key, ev)
        if self.formatter is None:
            return row, None
        return row, self.formatter(None if rec is not None else BatchEntry(*row), rec)

    def _error(self, entry: BatchEntry) -> Result:
        row = slim_row(entry.key, entry.id, entry.verdict, entry.path, entry.error) if self.slim else row_of_entry(entry)
        return row, self.formatter(entry, None) if self.formatter else None

    def close(self) -> None:
        self.evaluator.close()


def row_of(key: int, ev: Evaluation) -> Row:
    """The ranking entry of one evaluation as a Row (the fields decision.entry_from_record takes
    from a record, plus criterion outcomes and path): `BatchEntry(*row)` is the entry."""
    awarded, gates_met, gates_failed, outcomes = ev.assessment.summary
    a = ev.applicant
    return (key, a.id, a.name, ev.verdict, ev.score, awarded, gates_met, ev.reason, gates_failed,
            None, "", outcomes, a.path, None)


def slim_row(key: int, id: str, verdict: str, path: str, error: Optional[dict] = None) -> Row:
    """A row with only what a run that does not rank it needs (key, id, verdict, path, error)."""
    return (key, id, "", verdict, None, (), 0, "", (), None, "", (), path, error)


def row_of_entry(entry: BatchEntry) -> Row:
    return (entry.key, entry.id, entry.name, entry.verdict, entry.score, entry.awarded, entry.gates_met,
            entry.reason, entry.gates_failed, entry.rank, entry.final, entry.outcomes, entry.path, entry.error)


def error_entry(item: Item, problems: list[Problem]) -> BatchEntry:
    first = problems[0] if problems else Problem(item.path, item.line, 0, "invalid input")
    line = first.line or item.line
    message = "; ".join(p.message for p in problems) or first.message
    err = {"path": first.path, "line": line, "col": first.col if first.line else 0, "message": message}
    where = f"{first.path}:{line}" if line else first.path
    return BatchEntry(key=item.key, id="", name=where, verdict=dec.ERROR, reason=message, path=where, error=err)


def evaluate_stream(program: Program, units: Iterable[Unit], jobs: int = 1, **kwargs: Any) -> Iterator[UnitResult]:
    """The rows and output pieces of every input, a unit of work at a time, in input order, over
    `jobs` processes (see workers.py)."""
    if jobs > 1:
        from eligibility.program.workers import run_units
        yield from run_units(units, jobs, partial(Worker, program, **kwargs))
        return
    worker = Worker(program, **kwargs)
    try:
        for unit in units:
            yield worker.process(unit, join=False)      # in this process: nothing to send
    finally:
        worker.close()


# --- the run ------------------------------------------------------------------------------

class Sink:
    """Receives each output piece as soon as it is ready, then the decision at the end.
    A sink that only writes the pieces sets `wants_entries = False` and gets None for the entry."""

    wants_entries = True

    def add(self, entry: BatchEntry | None, piece: Any) -> None:  # pragma: no cover - interface
        pass

    def add_pieces(self, pieces: Any) -> None:
        """The pieces of consecutive inputs, for a sink that does not want entries: a list, or one
        str when every piece is text."""
        for piece in ([pieces] if isinstance(pieces, str) else pieces):
            self.add(None, piece)

    def finish(self, result: BatchResult) -> None:  # pragma: no cover - interface
        pass


def run_batch(program: Program, inputs: Sequence[str], engine: str = "durable", jobs: int = 1,
              as_of: str | None = None, settings: Mapping[str, Any] | None = None,
              keep_all: bool = True, sink: Sink | None = None, formatter: Formatter | None = None,
              trace: bool = False, records: bool = False, input_fmt: str | None = None,
              on_progress: Callable[[int], None] | None = None, stdin=None,
              command: list[str] | None = None, settings_label: str = OVERRIDE_LABEL) -> BatchResult:
    """Evaluate every input, rank the eligible ones and apply the quota.

    `keep_all` keeps every entry (for tables); otherwise only rankable entries are kept
    and the others are only counted. `formatter(entry, record)` runs in the worker and its
    result goes to `sink.add`; `records`/`trace` say whether it needs the record (and trace);
    it gets the entry only when there is no record (an error input, or `records` false).
    Parameters (`--param`) are applied when the program is loaded (api.load_rules), and so is the
    choice of the rules version in force `as_of`. `command` goes into every record (replay)."""
    settings = dict(settings or {})
    if settings:   # refuse a bad --set once, before any work, instead of once per applicant
        apply_overrides(Applicant(path=settings_label, sha256="", id="x", name="x"), program, settings,
                        label=settings_label)
    wants_entries = sink is not None and getattr(sink, "wants_entries", True)
    units = iter_units(inputs, input_fmt, stdin)
    stream = evaluate_stream(program, units, jobs, engine=engine, as_of=as_of, settings=settings,
                             formatter=formatter, trace=trace, records=records, command=command,
                             settings_label=settings_label,
                             slim=not keep_all and not wants_entries)
    kept: list[dec.Entry] = []
    tally: Counter[str] = Counter()
    errors: list[dict] = []
    seen: set[str] = set()            # every id so far: a later input with the same id is an error
    shared: dict[Any, Any] = {}       # equal reasons and point tuples of ranked entries, stored once
    done = 0
    for unit in stream:
        # a unit at a time, in comprehensions: at a few hundred thousand inputs, a Python loop
        # per row here costs as much as a worker process's reading of the input
        rows = unit.rows
        ids = [row[1] for row in rows if row[3] != dec.ERROR]
        fresh = set(ids)
        changed: dict[int, Any] = {}
        if len(fresh) == len(ids) and seen.isdisjoint(fresh):
            seen |= fresh
        else:
            rows, changed = _mark_duplicates(rows, seen, formatter)
        tally.update(map(itemgetter(3), rows))
        errors += [{"input": row[0], **row[_ERROR_FIELD]} for row in rows if row[_ERROR_FIELD] is not None]
        entries = [BatchEntry(*row) for row in rows] if wants_entries or keep_all else None
        if wants_entries:
            pieces = unit.piece_list()
            for i, entry in enumerate(entries):  # type: ignore[arg-type]
                sink.add(entry, changed[i] if i in changed else pieces[i])  # type: ignore[union-attr]
        if keep_all:
            kept += entries  # type: ignore[arg-type]
        else:
            # kept only to be ranked: what the ranking and the outputs' final pass read, with the
            # reasons (few distinct ones among eligible applicants) shared rather than repeated
            share = shared.setdefault if len(shared) < 10_000 else _first
            kept += [BatchEntry(row[0], row[1], row[2], row[3], row[4], share(row[5], row[5]), row[6],
                                share(row[7], row[7]), row[8]) for row in rows if row[3] == dec.SELECTED]
        if sink is not None and not wants_entries:
            if changed:
                pieces = unit.piece_list()
                for i, piece in changed.items():
                    pieces[i] = piece
                sink.add_pieces(pieces)
            else:
                sink.add_pieces(unit.pieces)
        done += len(rows)
        if on_progress is not None:
            on_progress(done)
    decision = dec.decide(program, kept)
    if not keep_all:     # the entries not kept were only counted: their verdict is final
        for v in (dec.EXCLUDED, dec.UNDETERMINED, dec.ERROR):
            decision.counts[v] = tally[v]
        decision.counts["total"] = done
    summary = {"inputs": done, "evaluated": done - len(errors), "errors": len(errors),
               **{v: decision.counts[v] for v in dec.VERDICTS if v != dec.ERROR}}
    result = BatchResult(program=program, decision=decision, summary=summary, errors=errors, as_of=as_of)
    if sink is not None:
        sink.finish(result)
    return result


def _first(value: Any, _: Any) -> Any:
    return value


def _mark_duplicates(rows: list[Row], seen: set[str], formatter: Formatter | None) -> tuple[list[Row], dict[int, Any]]:
    """The rows with each input whose id an earlier input has made an error row, and the new
    output piece of each of those, by position; the ids are added to `seen`."""
    out, changed = list(rows), {}
    for i, row in enumerate(rows):
        if row[3] == dec.ERROR:
            continue
        if row[1] not in seen:
            seen.add(row[1])
            continue
        entry = _duplicate(BatchEntry(*row))
        out[i] = row_of_entry(entry)
        changed[i] = formatter(entry, None) if formatter else None
    return out, changed


def _duplicate(entry: BatchEntry) -> BatchEntry:
    message = f"duplicate applicant id '{entry.id}' (an earlier input has the same id)"
    path, _, line = entry.path.rpartition(":") if entry.path.rpartition(":")[2].isdigit() else (entry.path, "", "0")
    return BatchEntry(key=entry.key, id=entry.id, name=entry.name, verdict=dec.ERROR, reason=message,
                      path=entry.path, error={"path": path, "line": int(line), "col": 0, "message": message})


def decision_dict(result: BatchResult) -> dict:
    """The program and decision policy header shared by the JSON and JSON Lines outputs."""
    p, d = result.program, result.decision
    return {"program": program_info(p), "as_of": result.as_of,
            "decision": {"quota": d.quota, "threshold": d.threshold, "tie_breaks": list(d.tie_breaks)},
            "summary": result.summary}


# --- whole records, for the report and the diff ------------------------------------------------

def _record_piece(entry: BatchEntry | None, record: Optional[PendingRecord]) -> Optional[dict]:
    return record.as_dict() if record is not None else None


class _Collect(Sink):
    def __init__(self) -> None:
        self.records: dict[int, dict] = {}

    def add(self, entry: BatchEntry, piece: Any) -> None:
        if piece is not None:
            self.records[entry.key] = piece


def collect_records(program: Program, inputs: Sequence[str], engine: str = "durable", as_of: str | None = None,
                    jobs: int = 1, command: list[str] | None = None) -> tuple[BatchResult, dict[int, dict]]:
    """Every input's full evaluation record (with its trace), by input key, plus the decision.

    The same pipeline as `run_batch` (inputs, errors, ranking, quota): the report and the rule
    diff use it to see every applicant whole."""
    sink = _Collect()
    result = run_batch(program, inputs, engine=engine, jobs=jobs, as_of=as_of, sink=sink,
                       formatter=_record_piece, records=True, trace=True, command=command)
    return result, sink.records


def errors_as_problems(result: BatchResult) -> list[Problem]:
    """The batch's error entries as problems, for commands that refuse to work on bad inputs."""
    return [Problem(e["path"], e["line"], e["col"], e["message"]) for e in result.errors]
