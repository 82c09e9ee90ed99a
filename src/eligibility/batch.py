"""Batch scoring: stream applicants from files, evaluate each, rank them and apply the quota.

    from eligibility import api, batch
    program = api.load_rules("rules/sovereign-ai-2025.yaml")
    result = batch.run_batch(program, ["applicants/"])
    [(e.name, e.final, e.rank) for e in result.decision.ordered()]

Inputs are YAML profile files, directories of them (`*.yaml`/`*.yml`, sorted by name),
JSON Lines files (one profile mapping per line, evidence optional) and CSV files (a header
row with `id`, `name`, optional `lead` and `consortium`, and one column per fact; an empty
cell is unknown; list facts are `;`-separated). `-` reads stdin (JSON Lines unless
`input_format` says otherwise). The format comes from the extension, or from `input_format`.

Every input becomes exactly one entry, in input order: an evaluated applicant, or an
`error` entry (unreadable or invalid file, bad JSON line, bad CSV row, duplicate id) with
its file, line and message. Nothing is dropped: `results + errors == inputs`.

Memory stays flat in the number of applicants: inputs are read lazily, each applicant's
output piece (a record line or a CSV row) is handed to the `sink` as soon as it is ready,
and only the small ranking entries are kept, only for the applicants who can be ranked
when `keep_all` is false. With `jobs > 1`, chunks of inputs go to worker processes (each
compiles the rules once and keeps one durable engine); results come back in input order.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, Iterator, Mapping, NamedTuple, Optional, Sequence

from . import decision as dec
from .api import Evaluator, apply_overrides
from .errors import EngineError, EnginesDisagree, InputError, Problem, Problems
from .evaluation import Evaluation
from .model import Applicant, Program
from .paths import yaml_files
from .profile import applicant_from_data, check_applicant
from .record import PendingRecord, RecordEncoder, program_info

INPUT_FORMATS = ("yaml", "jsonl", "csv")
CSV_META = ("id", "name", "lead", "consortium", "notes")
_EXT = {".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
CHUNK = 1024           # inputs per unit of work sent to a worker process


@dataclass(**dec.SLOTS)
class BatchEntry(dec.Entry):
    """A ranking entry plus what the table needs (criterion outcomes) and, for errors, where."""

    outcomes: tuple[str, ...] = ()
    path: str = ""
    error: Optional[dict] = None      # {"path", "line", "col", "message"} for error entries


class Item(NamedTuple):
    """One input: a YAML file (payload None), a JSON line (text) or a CSV row (dict).
    A tuple: cheap to make and to send to worker processes."""

    key: int
    kind: str
    path: str
    line: int = 0
    payload: Any = None


# What a worker returns per input instead of a BatchEntry (cheaper to make and to send between
# processes): the BatchEntry's fields in order, made into an entry only where one is needed.
Row = tuple
_ERROR_FIELD = 13          # index of BatchEntry.error in a Row


@dataclass
class BatchResult:
    program: Program
    decision: dec.Decision
    summary: dict[str, int]
    errors: list[dict] = field(default_factory=list)
    as_of: str | None = None


# --- inputs -------------------------------------------------------------------------------

def input_format(path: str, forced: str | None = None) -> str:
    if forced:
        if forced not in INPUT_FORMATS:
            raise InputError(Problem("--input-format", 0, 0, f"unknown input format {forced!r}: "
                                                             f"use {', '.join(INPUT_FORMATS)}"))
        return forced
    if path == "-":
        return "jsonl"
    ext = os.path.splitext(path)[1].lower()
    if ext not in _EXT:
        raise InputError(Problem(path, 0, 0, "unknown input type: expected .yaml, .yml, .jsonl or .csv "
                                             "(or name the format with --input-format)"))
    return _EXT[ext]


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Directories become their YAML files (sorted); missing paths are refused before any work."""
    out: list[str] = []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            out += yaml_files(p, tests=False)
        elif p != "-" and not os.path.exists(p):
            raise InputError(Problem(p, 0, 0, "no such file or directory"))
        else:
            out.append(p)
    return out


def iter_items(paths: Sequence[str], forced: str | None = None, stdin: Optional[io.TextIOBase] = None) -> Iterator[Item]:
    """Every input of `paths`, in order, numbered from 0."""
    files = expand_paths(paths)
    for p in files:                      # check every format before reading anything
        input_format(p, forced)
    key = itertools.count()
    for p in files:
        fmt = input_format(p, forced)
        if fmt == "yaml" and p != "-":
            yield Item(next(key), "yaml", p)
            continue
        for line, payload in _records(p, fmt, stdin):
            yield Item(next(key), fmt, "<stdin>" if p == "-" else p, line, payload)


def _jsonl_lines(path: str, raw: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, text or InputError) per non-blank line: a line that is not UTF-8 is an error of
    its own, and the lines after it are still read."""
    for n, data in enumerate(raw, start=1):
        if n == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield n, InputError.at(path, n, exc.start + 1, f"not valid UTF-8 (byte {exc.start + 1} of the line)")
            continue
        if line.strip():
            yield n, line


def _records(path: str, fmt: str, stdin) -> Iterator[tuple[int, Any]]:
    """(line, payload) for each record of a JSON Lines, CSV or stdin YAML stream."""
    if fmt == "jsonl":
        if path == "-":
            source = stdin if stdin is not None else sys.stdin
            raw = getattr(source, "buffer", None)
            if raw is None:             # a text stream (tests): already decoded
                yield from ((n, line) for n, line in enumerate(source, start=1) if line.strip())
                return
            yield from _jsonl_lines("<stdin>", raw)
            return
        try:
            with open(path, "rb") as raw_file:
                yield from _jsonl_lines(path, raw_file)
        except OSError as exc:
            yield 0, InputError.at(path, 0, 0, f"cannot read file: {exc.strerror or exc}")
        return
    if path == "-":
        fh = stdin or sys.stdin
        close = False
    else:
        try:
            # utf-8-sig: spreadsheet exports often start with a byte-order mark
            fh = open(path, encoding="utf-8-sig", newline="" if fmt == "csv" else None, errors="strict")
        except OSError as exc:
            yield 0, InputError.at(path, 0, 0, f"cannot read file: {exc.strerror or exc}")
            return
        close = True
    try:
        if fmt == "yaml":
            yield 1, fh.read()
        else:
            yield from _csv_rows(path, fh)
    finally:
        if close:
            fh.close()


def _csv_rows(path: str, fh) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(fh)
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
        repeated = sorted({h for h in header if header.count(h) > 1})
        if repeated:
            col = header.index(repeated[0]) + 1
            yield reader.line_num, InputError.at(path, reader.line_num, col,
                                                 f"CSV header repeats column(s) {', '.join(map(repr, repeated))}")
            return
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield reader.line_num, InputError.at(path, reader.line_num, 1,
                                                     f"CSV row has {len(row)} cells, the header has {len(header)}")
                continue
            yield reader.line_num, dict(zip(header, row))
    except (csv.Error, UnicodeDecodeError) as exc:
        yield reader.line_num, InputError.at(path, reader.line_num, 1, f"bad CSV: {exc}; the rest of the file is skipped")


def csv_profile(row: Mapping[str, str]) -> dict:
    """A CSV row as a profile mapping: meta columns, then one fact per other non-empty cell."""
    data: dict[str, Any] = {}
    for k in CSV_META:
        cell = (row.get(k) or "").strip()
        if cell:
            data[k] = [m.strip() for m in cell.split(";") if m.strip()] if k == "consortium" else cell
    data["facts"] = {k: v.strip() for k, v in row.items() if k not in CSV_META and v.strip()}
    return data


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """json.loads keeps the last of duplicate keys; a profile must not say two things at once."""
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


_JSONL_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def parse_item(item: Item, program: Program) -> Applicant:
    """The applicant of one input; InputError when it cannot be read or is invalid."""
    if isinstance(item.payload, InputError):
        raise item.payload
    if item.kind == "yaml":
        applicant, problems = check_applicant(item.path, program, item.payload)
        problems.raise_if_any()
        return applicant  # type: ignore[return-value]
    problems = Problems(item.path)
    if item.kind == "jsonl":
        try:
            data = _JSONL_DECODER.decode(item.payload)
        except _DuplicateKey as exc:
            raise InputError.at(item.path, item.line, 1, f"duplicate key {exc.args[0]!r}") from None
        except ValueError as exc:
            raise InputError.at(item.path, item.line, getattr(exc, "colno", 1), f"invalid JSON: {getattr(exc, 'msg', exc)}") from None
        except RecursionError:
            raise InputError.at(item.path, item.line, 1, "JSON nested too deeply") from None
        digest = hashlib.sha256(item.payload.rstrip("\r\n").encode("utf-8")).hexdigest()
    else:
        data = csv_profile(item.payload)
        digest = hashlib.sha256(json.dumps(item.payload, sort_keys=True).encode("utf-8")).hexdigest()
    applicant = applicant_from_data(data, program, item.path, digest, problems, require_evidence=False, line=item.line)
    problems.raise_if_any()
    if item.line:
        applicant.path = f"{item.path}:{item.line}"   # type: ignore[union-attr]
    return applicant  # type: ignore[return-value]


# --- evaluation ---------------------------------------------------------------------------

Formatter = Callable[[BatchEntry, Optional[PendingRecord]], Any]
Result = tuple[Row, Any]   # (row, output piece) of one input


class Worker:
    """Evaluates items into (row, output piece); one per process, compiling the rules once."""

    def __init__(self, program: Program, engine: str = "durable", as_of: str | None = None,
                 settings: Mapping[str, Any] | None = None, formatter: Formatter | None = None,
                 trace: bool = False, records: bool = False, command: list[str] | None = None):
        self.program = program
        self.command = command
        self.evaluator = Evaluator(program, engine)
        self.as_of, self.settings = as_of, dict(settings or {})
        self.formatter, self.trace = formatter, trace
        self.records = records or trace
        self.encoder = RecordEncoder(command)

    def process(self, items: Iterable[Item]) -> list[Result]:
        return [self.one(item) for item in items]

    def one(self, item: Item) -> Result:
        try:
            applicant = parse_item(item, self.program)
            if self.settings:
                apply_overrides(applicant, self.program, self.settings)
        except InputError as exc:
            entry = error_entry(item, exc.problems)
            return row_of_entry(entry), self.formatter(entry, None) if self.formatter else None
        try:
            ev = self.evaluator.evaluate(applicant, self.as_of, trace=self.trace)
        except EnginesDisagree:
            raise                         # the audit mode stops the whole run
        except EngineError as exc:        # one applicant's engine failure: an error entry, the batch goes on
            entry = error_entry(item, [Problem(applicant.path, item.line, 0, f"engine failure: {exc}")])
            return row_of_entry(entry), self.formatter(entry, None) if self.formatter else None
        rec = PendingRecord(ev, self.trace, self.encoder) if self.records else None
        row = row_of(item.key, ev)
        if self.formatter is None:
            return row, None
        return row, self.formatter(None if rec is not None else BatchEntry(*row), rec)

    def close(self) -> None:
        self.evaluator.close()


def row_of(key: int, ev: Evaluation) -> Row:
    """The ranking entry of one evaluation as a Row (the fields decision.entry_from_record takes
    from a record, plus criterion outcomes and path): `BatchEntry(*row)` is the entry."""
    awarded, gates_met, gates_failed, outcomes = ev.assessment.summary
    a = ev.applicant
    return (key, a.id, a.name, ev.verdict, ev.score, awarded, gates_met, ev.reason, gates_failed,
            None, "", outcomes, a.path, None)


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


_worker: Worker | None = None


def _init_worker(args: tuple) -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle
    global _worker
    program, kwargs = args
    _worker = Worker(program, **kwargs)


def _run_chunk(items: list[Item]) -> list[Result]:
    assert _worker is not None
    return _worker.process(items)


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    it = iter(items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def evaluate_stream(program: Program, items: Iterable[Item], jobs: int = 1, **kwargs: Any) -> Iterator[Result]:
    """(row, output piece) for every item, in input order, over `jobs` processes."""
    if jobs <= 1:
        worker = Worker(program, **kwargs)
        try:
            for item in items:
                yield worker.one(item)
        finally:
            worker.close()
        return
    import multiprocessing as mp
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    pool = mp.get_context(method).Pool(jobs, initializer=_init_worker, initargs=((program, kwargs),))
    try:
        for chunk in pool.imap(_run_chunk, _chunks(items, CHUNK)):
            yield from chunk
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


# --- the run ------------------------------------------------------------------------------

class Sink:
    """Receives each output piece as soon as it is ready, then the decision at the end.
    A sink that only writes the pieces sets `wants_entries = False` and gets None for the entry."""

    wants_entries = True

    def add(self, entry: BatchEntry | None, piece: Any) -> None:  # pragma: no cover - interface
        pass

    def finish(self, result: BatchResult) -> None:  # pragma: no cover - interface
        pass


def run_batch(program: Program, inputs: Sequence[str], engine: str = "durable", jobs: int = 1,
              as_of: str | None = None, settings: Mapping[str, Any] | None = None,
              keep_all: bool = True, sink: Sink | None = None, formatter: Formatter | None = None,
              trace: bool = False, records: bool = False, input_fmt: str | None = None,
              on_progress: Callable[[int], None] | None = None, stdin=None,
              command: list[str] | None = None) -> BatchResult:
    """Evaluate every input, rank the eligible ones and apply the quota.

    `keep_all` keeps every entry (for tables); otherwise only rankable entries are kept
    and the others are only counted. `formatter(entry, record)` runs in the worker and its
    result goes to `sink.add`; `records`/`trace` say whether it needs the record (and trace);
    it gets the entry only when there is no record (an error input, or `records` false).
    Parameters (`--param`) are applied when the program is loaded (api.load_rules), and so is the
    choice of the rules version in force `as_of`. `command` goes into every record (replay)."""
    settings = dict(settings or {})
    if settings:   # refuse a bad --set once, before any work, instead of once per applicant
        apply_overrides(Applicant(path="--set", sha256="", id="x", name="x"), program, settings)
    items = iter_items(inputs, input_fmt, stdin)
    stream = evaluate_stream(program, items, jobs, engine=engine, as_of=as_of, settings=settings,
                             formatter=formatter, trace=trace, records=records, command=command)
    kept: list[dec.Entry] = []
    tally = {v: 0 for v in dec.VERDICTS}
    errors: list[dict] = []
    seen: set[str] = set()            # every id so far: a later input with the same id is an error
    shared: dict[Any, Any] = {}       # equal reasons and point tuples of ranked entries, stored once
    done = 0
    wants_entries = sink is not None and getattr(sink, "wants_entries", True)
    for row, piece in stream:
        key, verdict = row[0], row[3]
        entry = None
        if verdict != dec.ERROR:
            if row[1] not in seen:
                seen.add(row[1])
            else:
                entry = _duplicate(BatchEntry(*row))
                row = row_of_entry(entry)
                verdict = dec.ERROR
                piece = formatter(entry, None) if formatter else None
        if row[_ERROR_FIELD] is not None:
            errors.append({"input": key, **row[_ERROR_FIELD]})
        tally[verdict] += 1
        if sink is not None:
            if wants_entries:
                entry = entry or BatchEntry(*row)
            sink.add(entry, piece)
        if keep_all:
            kept.append(entry or BatchEntry(*row))
        elif verdict == dec.SELECTED:
            # kept only to be ranked: what the ranking and the outputs' final pass read, with the
            # reasons (few distinct ones among eligible applicants) shared rather than repeated
            reason, awarded = row[7], row[5]
            if len(shared) < 10_000:
                reason, awarded = shared.setdefault(reason, reason), shared.setdefault(awarded, awarded)
            kept.append(BatchEntry(key, row[1], row[2], verdict, row[4], awarded, row[6], reason, row[8]))
        done += 1
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
