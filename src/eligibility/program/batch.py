"""Batch scoring: stream applicants from files, evaluate each, rank them and apply the quota.

    from eligibility import api
    from eligibility.program import batch
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    result = batch.run_batch(program, ["applicants/"])
    [(e.name, e.final, e.rank) for e in result.decision.ordered()]

Inputs are YAML profile files, directories of them, JSON Lines and CSV files, or `-` for
stdin (inputs.py reads them, in units of work).

Every input becomes exactly one `Row`, in input order: an evaluated applicant, or an error
(unreadable or invalid file, bad JSON line, bad CSV row, duplicate id, engine failure) with
its file, line and message. Nothing is dropped: `results + errors == inputs`.

Memory stays flat in the number of applicants: inputs are read lazily, the output pieces
(record lines, CSV rows) of each unit of work go to the sink as soon as the unit is done, and
only the small ranking entries are kept, only for the applicants who can be ranked unless
`keep_all`. With `jobs > 1`, units go to `jobs - 1` worker processes and this one
(workers.py: each compiles the rules once and keeps one engine); results come back in input
order.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence

from eligibility.core.errors import EngineError, InputError, Problem
from eligibility.evaluate.assess import Evaluation
from eligibility.evaluate.evaluator import Evaluator
from eligibility.evaluate.memo import Memo
from eligibility.evaluate.rankvalues import rank_values
from eligibility.language.model import Applicant, Program
from eligibility.language.numeric import evaluation_date
from eligibility.language.profile import OVERRIDE_LABEL, apply_overrides
from eligibility.program import decision as dec
from eligibility.program.freememory import MemoryRelease
from eligibility.program.heldpieces import HeldPieces, PieceWriter
from eligibility.program.idset import IdSet
from eligibility.program.inputs import Item, Unit, iter_units, parse_items, unit_items
from eligibility.records.record import RecordEncoder, RecordOptions, RecordView, program_info

GROUP = 32                 # inputs evaluated together (Evaluator.evaluate_all)


class Row(NamedTuple):
    """What a worker returns for one input (a tuple: cheap to make and to send between
    processes): the ranking's fields, the criterion outcomes and, for an error, where and why."""

    key: int                          # position in the input stream
    id: str
    verdict: str                      # applicant verdict before the quota, or "error"
    path: str
    name: str = ""
    score: Optional[float] = None
    awarded: tuple[float, ...] = ()
    gates_met: int = 0
    reason: str = ""
    gates_failed: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    error: Optional[dict] = None      # {"path", "line", "col", "message"} for an error
    prospects: Optional[dict] = None  # what unknown facts could still make of it (decision.prospects)
    values: tuple = ()                # its rank_by values (evaluate.rankvalues)
    published_by: str = ""            # the published criterion that set the verdict, if one did


@dataclass(slots=True)
class BatchEntry(dec.Entry):
    """A ranking entry plus what the table needs (criterion outcomes) and, for errors, where."""

    outcomes: tuple[str, ...] = ()
    path: str = ""
    error: Optional[dict] = None

    @classmethod
    def of(cls, row: Row) -> "BatchEntry":
        return cls(key=row.key, id=row.id, name=row.name, verdict=row.verdict,
                   score=0 if row.score is None else row.score, awarded=row.awarded, gates_met=row.gates_met,
                   why=row.reason, gates_failed=row.gates_failed, outcomes=row.outcomes, path=row.path,
                   error=row.error, values=row.values, published_by=row.published_by, **(row.prospects or {}))


@dataclass(frozen=True)
class BatchOptions:
    """How a batch runs. `keep_all` keeps every entry (for tables); otherwise only rankable
    entries are kept and the others only counted. `settings` override facts of every applicant
    (`settings_label` names where they were given); parameters and the rules version in force
    `as_of` are chosen when the program is loaded (language.versions.load_rules). `today` is the
    date `today` stands for in rules that read it: run_batch fixes it when it starts (the as-of
    date, else the day the run starts), so a run that passes midnight judges every applicant on
    the same day."""

    engine: str = "durable"
    jobs: int = 1
    as_of: Optional[str] = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    settings_label: str = OVERRIDE_LABEL
    input_format: Optional[str] = None
    keep_all: bool = True
    records: RecordOptions = RecordOptions()
    today: Optional[dt.date] = None


@dataclass
class BatchResult:
    program: Program
    decision: dec.Decision
    summary: dict[str, int]
    errors: list[dict] = field(default_factory=list)
    as_of: Optional[str] = None


class Sink:
    """Receives each input's output piece as soon as it is ready, then the decision at the end.

    `piece(row, record)` makes an input's piece in the worker process (a module-level function,
    so that it can be sent to worker processes); it gets the record (a RecordView) when
    `needs_record` and the input was evaluated, else None. A sink that writes pieces only sets
    `wants_entries = False` and gets them through `add_pieces`."""

    wants_entries = True
    needs_record = False
    piece: Optional[Callable[[Row, Optional[RecordView]], Any]] = None
    # (descriptor, name) of the regular file the sink writes its pieces to, when worker processes
    # may write them into it themselves: the sink's pieces are then str, and `add_pieces` writes
    # them with heldpieces.write_pieces
    output_file: Optional[tuple[int, str]] = None

    def add(self, entry: Optional[BatchEntry], piece: Any) -> None:  # pragma: no cover - interface
        pass

    def add_pieces(self, pieces: list[Any] | HeldPieces) -> None:
        """The pieces of consecutive inputs, for a sink that does not want entries (HeldPieces
        when it has an `output_file` and they come from a worker process)."""
        for piece in pieces:
            self.add(None, piece)

    def finish(self, result: BatchResult) -> None:  # pragma: no cover - interface
        pass


class UnitResult(NamedTuple):
    """What a worker sends back for a unit of work: a row and an output piece per input (the
    pieces as a list, or as HeldPieces that the worker writes into the output file itself)."""

    rows: list[Row]
    pieces: list[Any] | HeldPieces

    def bind_notes(self, send: Callable[[Any], None]) -> None:
        """Given the way to send a note to the worker that made it (workers.run_units)."""
        if isinstance(self.pieces, HeldPieces):
            self.pieces.send_note = send


# --- evaluation ---------------------------------------------------------------------------

class Worker:
    """Evaluates units of work into rows and output pieces; one per process, compiling the rules
    once and keeping the batch's memo (evaluate/memo.py)."""

    def __init__(self, program: Program, options: BatchOptions, piece: Optional[Callable] = None,
                 needs_record: bool = False, slim: bool = False, output_file: Optional[tuple[int, str]] = None):
        self.program, self.options = program, options
        self.evaluator = Evaluator(program, options.engine)
        self.memo = Memo.for_criteria(len(program.criteria))
        self.piece, self.slim = piece, slim
        self.writer = PieceWriter(*output_file) if output_file is not None else None
        self.needs_record = needs_record or options.records.trace
        self.encoder = RecordEncoder(options.records, self.memo)

    def process(self, unit: Unit) -> UnitResult:
        """Every input of a unit of work, GROUP at a time (see Evaluator.evaluate_all); rows of
        applicants who cannot be selected carry only their verdict when `slim` says that the
        run only counts them."""
        items = list(unit_items(unit))
        rows: list[Row] = []
        pieces: list[Any] = []
        for start in range(0, len(items), GROUP):
            for row, piece in self.group(items[start:start + GROUP]):
                rows.append(row)
                pieces.append(piece)
        if self.writer is not None and all(isinstance(p, str) for p in pieces):
            return UnitResult(rows, self.writer.hold(pieces))
        return UnitResult(rows, pieces)

    def note(self, places: Any) -> None:
        """Where the parent has placed a unit's held pieces in the output file (heldpieces.py)."""
        self.writer.write(places)  # type: ignore[union-attr]

    def group(self, items: Sequence[Item]) -> list[tuple[Row, Any]]:
        """The (row, output piece) of each item: read them all, evaluate the readable ones together."""
        options = self.options
        parsed = parse_items(items, self.program)
        if options.settings:
            parsed = [self._overridden(a) for a in parsed]
        evaluations = iter(self.evaluator.evaluate_all([a for a in parsed if not isinstance(a, InputError)],
                                                       options.as_of, options.records.trace, self.memo,
                                                       options.today))
        out = []
        for item, applicant in zip(items, parsed):
            if isinstance(applicant, InputError):
                out.append(self._made(error_row(item, applicant.problems), None))
                continue
            ev = next(evaluations)
            if isinstance(ev, EngineError):   # one applicant's engine failure: an error row, the batch goes on
                problem = Problem(applicant.path, item.line, 0, f"engine failure: {ev}")
                out.append(self._made(error_row(item, [problem]), None))
            else:
                out.append(self._made(self._row(item.key, ev), ev))
        return out

    def _overridden(self, applicant: Applicant | InputError) -> Applicant | InputError:
        if isinstance(applicant, InputError):
            return applicant
        try:
            return apply_overrides(applicant, self.program, self.options.settings, label=self.options.settings_label)
        except InputError as exc:
            return exc

    def _row(self, key: int, ev: Evaluation) -> Row:
        a = ev.applicant
        if self.slim and ev.verdict not in dec.RANKED_OR_CONTENDING:
            return Row(key, a.id, ev.verdict, a.path)
        s = ev.assessment
        return Row(key, a.id, s.verdict, a.path, a.name, s.score, s.awarded, s.gates_met, ev.reason,
                   s.gates_failed, s.outcomes, prospects=self.memo.get("prospects", s, dec.prospects, s),
                   values=rank_values(ev), published_by=s.published_by)

    def _made(self, row: Row, ev: Optional[Evaluation]) -> tuple[Row, Any]:
        if self.piece is None:
            return row, None
        record = RecordView(ev, self.encoder) if ev is not None and self.needs_record else None
        return row, self.piece(row, record)

    def close(self) -> None:
        self.evaluator.close()


def error_row(item: Item, problems: list[Problem]) -> Row:
    first = problems[0] if problems else Problem(item.path, item.line, 0, "invalid input")
    line = first.line or item.line
    message = "; ".join(p.message for p in problems) or first.message
    err = {"path": first.path, "line": line, "col": first.col if first.line else 0, "message": message}
    where = f"{first.path}:{line}" if line else first.path
    return Row(item.key, "", dec.ERROR, where, name=where, reason=message, error=err)


def evaluate_stream(program: Program, units: Iterable[Unit], options: BatchOptions,
                    output_file: Optional[tuple[int, str]] = None, **worker: Any) -> Iterator[UnitResult]:
    """The rows and output pieces of every input, a unit of work at a time, in input order, over
    `options.jobs` processes: this one and `jobs - 1` worker processes (see workers.py); `worker`
    are the Worker's other arguments. With forked worker processes, the pieces are written into
    `output_file` by whichever process made them (heldpieces.py)."""
    if options.jobs > 1:
        from eligibility.program.workers import forks, run_units
        if output_file is not None and forks():      # a spawned worker has not the parent's files
            worker["output_file"] = output_file
        yield from run_units(units, options.jobs, partial(Worker, program, options, **worker), here=True)
        return
    evaluator = Worker(program, options, **worker)
    try:
        for unit in units:
            yield evaluator.process(unit)
    finally:
        evaluator.close()


# --- the run ------------------------------------------------------------------------------

def run_batch(program: Program, inputs: Sequence[str], options: BatchOptions = BatchOptions(),
              sink: Optional[Sink] = None, on_progress: Optional[Callable[[int], None]] = None,
              stdin: Any = None) -> BatchResult:
    """Evaluate every input, rank the eligible ones and apply the quota (see BatchOptions and Sink)."""
    if options.settings:   # refuse a bad override once, before any work, instead of once per applicant
        apply_overrides(Applicant(path=options.settings_label, sha256="", id="x", name="x"), program,
                        options.settings, label=options.settings_label)
    if options.today is None and program.reads_today:
        options = replace(options, today=evaluation_date(options.as_of))
    wants_entries = sink is not None and sink.wants_entries
    piece = sink.piece if sink is not None else None
    units = iter_units(inputs, options.input_format, stdin)
    stream = evaluate_stream(program, units, options, piece=piece, slim=not options.keep_all and not wants_entries,
                             needs_record=sink is not None and sink.needs_record,
                             output_file=sink.output_file if sink is not None and not wants_entries else None)
    pool = dec.Pool(program)          # the entries the decision reads (when not keep_all)
    kept: list[dec.Entry] = []
    tally: Counter[str] = Counter()
    errors: list[dict] = []
    seen = IdSet()                    # every id so far: a later input with the same id is an error
    shared: dict[Any, Any] = {}       # equal reasons and point tuples of ranked entries, stored once
    release = MemoryRelease()         # freed memory handed back to the system as the batch goes
    done = 0
    for unit in stream:
        rows, pieces = _mark_duplicates(unit.rows, unit.pieces, seen, piece)
        tally.update(row.verdict for row in rows)
        errors += [{"input": row.key, **row.error} for row in rows if row.error is not None]
        if wants_entries or options.keep_all:
            entries = [BatchEntry.of(row) for row in rows]
            if wants_entries:
                for entry, p in zip(entries, pieces):
                    sink.add(entry, p)  # type: ignore[union-attr]
            if options.keep_all:
                kept += entries
        if not options.keep_all:
            # kept only to be ranked: what the ranking and the outputs' final pass read, with the
            # reasons and point tuples (few distinct ones among eligible applicants) shared
            share = shared.setdefault if len(shared) < 10_000 else _first
            for row in rows:
                if row.verdict in dec.RANKED_OR_CONTENDING:
                    prospects = {k: share(v, v) if isinstance(v, tuple) else v for k, v in (row.prospects or {}).items()}
                    pool.add(dec.Entry(row.key, row.id, row.name, row.verdict, row.score, share(row.awarded, row.awarded),
                                       row.gates_met, share(row.reason, row.reason), row.gates_failed,
                                       values=row.values, **prospects))
        if sink is not None and not wants_entries:
            sink.add_pieces(pieces)
        done += len(rows)
        release.after(done)
        if on_progress is not None:
            on_progress(done)
    decision = dec.decide(program, kept if options.keep_all else pool.entries)
    if not options.keep_all:     # the entries not kept were only counted: their verdict is final
        for v in (dec.EXCLUDED, dec.UNDETERMINED, dec.ERROR):   # (some undetermined ones were kept: all counted here)
            decision.counts[v] = tally[v]
        decision.counts["total"] = done
    summary = {"inputs": done, "evaluated": done - len(errors), "errors": len(errors),
               **{v: decision.counts[v] for v in dec.VERDICTS if v != dec.ERROR}}
    result = BatchResult(program=program, decision=decision, summary=summary, errors=errors, as_of=options.as_of)
    if sink is not None:
        sink.finish(result)
    return result


def _first(value: Any, _: Any) -> Any:
    return value


def _mark_duplicates(rows: list[Row], pieces: list[Any] | HeldPieces, seen: IdSet,
                     piece: Optional[Callable]) -> tuple[list[Row], list[Any] | HeldPieces]:
    """The rows (and pieces) with each input whose id an earlier input has made an error; the
    ids are added to `seen`."""
    evaluated = [i for i, row in enumerate(rows) if row.verdict != dec.ERROR]
    again = seen.add_all([rows[i].id for i in evaluated])
    if not again:
        return rows, pieces
    rows = list(rows)
    pieces = pieces if isinstance(pieces, HeldPieces) else list(pieces)
    for i in (evaluated[n] for n in again):
        rows[i] = _duplicate(rows[i])
        pieces[i] = piece(rows[i], None) if piece is not None else None
    return rows, pieces


def _duplicate(row: Row) -> Row:
    message = f"duplicate applicant id '{row.id}' (an earlier input has the same id)"
    path, _, line = row.path.rpartition(":") if row.path.rpartition(":")[2].isdigit() else (row.path, "", "0")
    return Row(row.key, row.id, dec.ERROR, row.path, name=row.name, reason=message,
               error={"path": path, "line": int(line), "col": 0, "message": message})


def decision_dict(result: BatchResult) -> dict:
    """The program and decision policy header shared by the JSON and JSON Lines outputs."""
    p, d = result.program, result.decision
    return {"program": program_info(p), "as_of": result.as_of,
            "decision": dec.policy_dict(d),
            "summary": result.summary}


# --- whole records, for the report and the diff ------------------------------------------------

def _record_piece(row: Row, record: Optional[RecordView]) -> Optional[dict]:
    return record.as_dict() if record is not None else None


class _Collect(Sink):
    needs_record = True
    piece = staticmethod(_record_piece)

    def __init__(self) -> None:
        self.records: dict[int, dict] = {}

    def add(self, entry: Optional[BatchEntry], piece: Any) -> None:
        if piece is not None and entry is not None:
            self.records[entry.key] = piece


def collect_records(program: Program, inputs: Sequence[str], engine: str = "durable", as_of: Optional[str] = None,
                    jobs: int = 1, command: Optional[list[str]] = None, settings: Optional[Mapping[str, Any]] = None,
                    settings_label: str = OVERRIDE_LABEL) -> tuple[BatchResult, dict[int, dict]]:
    """Every input's full evaluation record (with its trace), by input key, plus the decision.

    The same pipeline as `run_batch` (inputs, errors, ranking, quota): the report and the rule
    diff use it to see every applicant whole. `settings` override facts of every applicant."""
    sink = _Collect()
    options = BatchOptions(engine=engine, jobs=jobs, as_of=as_of, settings=settings or {}, settings_label=settings_label,
                           records=RecordOptions(trace=True, command=tuple(command) if command else None))
    result = run_batch(program, inputs, options, sink)
    return result, sink.records


def errors_as_problems(result: BatchResult) -> list[Problem]:
    """The batch's error entries as problems, for commands that refuse to work on bad inputs."""
    return [Problem(e["path"], e["line"], e["col"], e["message"]) for e in result.errors]
