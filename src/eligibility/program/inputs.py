"""Reading a batch's applicants: YAML files and directories, JSON Lines and CSV, files or stdin.

Every input gets a key, its position among all inputs (from 0), and becomes an `Item`: a
YAML file, a JSON line or a CSV row. Inputs are handed out in units of work (`iter_units`):
a JSON Lines file as `Block`s of whole lines, read as bytes and split into items only by
whoever evaluates them (a worker process, when there are several), so that the process
reading the file does almost nothing per line; YAML files and CSV rows as lists of items.

A JSON line that is blank (spaces and tabs only) is no input; any other line is one, and a
line that is not UTF-8 or not a JSON profile is an error input of its own, named by file and
line. A CSV row with every cell empty is no input.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import zlib
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable, Generator, Iterator, Mapping, NamedTuple, Optional, Sequence, Union

from eligibility.core.errors import InputError, Problem, Problems
from eligibility.core.text import UNSAFE_IN_TEXT, describe, find_unsafe
from eligibility.language.model import Applicant, Program
from eligibility.core.paths import yaml_files
from eligibility.language.profile import applicant_from_data, check_applicant
from eligibility.language.yamlsafe import max_bytes

INPUT_FORMATS = ("yaml", "jsonl", "csv")
CSV_META = ("id", "name", "lead", "consortium", "notes")
_EXT = {".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
CHUNK = 64               # YAML files or CSV rows per unit of work
# Bytes of JSON Lines per unit of work (about 47 profiles of the benchmark). A unit's output is
# kept until the unit is done, and that text (about 2 KB per applicant) is allocated between two
# engine runs: with 256 KB units (1.5 MB of output each), the engine's own allocations moved
# through the heap and each applicant's engine run took about 2.5 µs longer (docs/performance.md).
BLOCK_BYTES = 1 << 14
# Budgets of bulk inputs (SECURITY.md): a JSON line or CSV line, and a CSV header. A CSV cell is
# held to the csv module's own field limit (131,072 characters).
MAX_LINE_BYTES = 1 << 20
MAX_CSV_COLUMNS = 1_000
_BOM = b"\xef\xbb\xbf"


class Item(NamedTuple):
    """One input: a YAML file (payload None), a JSON line (text, or the InputError of a line that
    is not UTF-8) or a CSV row (dict). A tuple: cheap to make and to send to worker processes."""

    key: int
    kind: str
    path: str
    line: int = 0
    payload: Any = None


@dataclass(frozen=True)
class Block:
    """Whole lines of a JSON Lines input: `data` starts at line `line`, and its first non-blank
    line is input `key`. A block read from a regular file also says where it lies in the file
    (`offset`), so that it can be sent to another process without its bytes (`light`) and read
    there again, checked against its CRC-32."""

    path: str
    line: int
    key: int
    data: Optional[bytes]
    offset: int = -1
    size: int = 0
    crc: int = 0

    def light(self) -> "Block":
        """This block without its bytes, when it can be read again from its file."""
        return self if self.offset < 0 else replace(self, data=None)

    def load(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(self.size)
        if len(data) != self.size or zlib.crc32(data) != self.crc:
            raise InputError.at(self.path, self.line, 0, "the file changed while the batch was reading it")
        return data

    def items(self) -> Iterator[Item]:
        key, path = self.key, self.path
        for n, data in enumerate(self.load().split(b"\n"), start=self.line):
            if data.strip():
                yield Item(key, "jsonl", path, n, _line_text(path, n, data))
                key += 1


Unit = Union[Block, "list[Item]"]


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


def iter_units(paths: Sequence[str], forced: str | None = None,
               stdin: Optional[io.TextIOBase] = None) -> Iterator[Unit]:
    """Every input of `paths`, in order and numbered from 0, in units of work."""
    files = expand_paths(paths)
    for p in files:                      # check every format before reading anything
        input_format(p, forced)
    key = 0
    pending: list[Item] = []             # consecutive YAML files and CSV rows, CHUNK at a time
    for p in files:
        fmt = input_format(p, forced)
        if fmt == "jsonl":
            if pending:
                yield pending
                pending = []
            key = yield from _jsonl_units(p, key, stdin)
            continue
        if fmt == "yaml" and p != "-":
            records: Iterator[tuple[int, Any]] = iter([(0, None)])
        else:
            records = _records(p, fmt, stdin)
        for line, payload in records:
            pending.append(Item(key, fmt, "<stdin>" if p == "-" else p, line, payload))
            key += 1
            if len(pending) == CHUNK:
                yield pending
                pending = []
    if pending:
        yield pending


def iter_items(paths: Sequence[str], forced: str | None = None, stdin: Optional[io.TextIOBase] = None) -> Iterator[Item]:
    """Every input of `paths`, in order, numbered from 0."""
    for unit in iter_units(paths, forced, stdin):
        yield from unit_items(unit)


def unit_items(unit: Unit) -> Iterator[Item]:
    return unit.items() if isinstance(unit, Block) else iter(unit)


def _count_lines(data: bytes) -> tuple[int, int]:
    """(newlines, inputs) of whole lines of JSON Lines: an input is a line that is not blank."""
    lines = data.split(b"\n")
    return len(lines) - 1, sum(1 for line in lines if line.strip())


def _line_text(path: str, n: int, data: bytes) -> Any:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError.at(path, n, exc.start + 1, f"not valid UTF-8 (byte {exc.start + 1} of the line)")


def _jsonl_units(path: str, key: int, stdin) -> Generator[Unit, None, int]:
    """A JSON Lines file or stdin as Blocks of whole lines (a line longer than a block is one
    block); a file that cannot be read is one error input. Returns the key after its inputs."""
    shown = "<stdin>" if path == "-" else path
    if path == "-":
        source = stdin if stdin is not None else sys.stdin
        raw = getattr(source, "buffer", None)
        if raw is None:                  # a text stream (tests): already decoded
            return (yield from _split_blocks(shown, lambda n: source.read(n).encode("utf-8", "surrogateescape"), key))
        return (yield from _split_blocks(shown, raw.read, key))
    try:
        with open(path, "rb") as fh:
            return (yield from _split_blocks(shown, fh.read, key, seekable=os.path.isfile(path)))
    except OSError as exc:   # refused at open, or failing part way: the inputs read so far stay
        yield [Item(key, "jsonl", path, 0, InputError.at(path, 0, 0, f"cannot read file: {exc.strerror or exc}"))]
        return key + 1


def _split_blocks(path: str, read: Callable[[int], bytes], key: int, seekable: bool = False) -> Generator[Unit, None, int]:
    """Blocks of whole lines. A line longer than MAX_LINE_BYTES is an error input of its own: it is
    read through (to find where the next line starts) but never held."""
    line, first, offset = 1, True, 0      # offset: where the bytes not yet handed out start
    carry: list[bytes] = []               # the start of a line whose end is not read yet
    held = 0                              # bytes in carry, or of the long line read through
    skipping = False
    while True:
        data = read(BLOCK_BYTES)
        if first and data.startswith(_BOM):
            data, offset = data[len(_BOM):], len(_BOM)
        first = False
        if not data:
            break
        end = data.find(b"\n")
        if end < 0 or held + end > MAX_LINE_BYTES:
            if skipping or held + (len(data) if end < 0 else end) > MAX_LINE_BYTES:
                if end < 0:                  # still inside a long line
                    skipping, carry, held = True, [], held + len(data)
                    continue
                yield [_too_long(path, line, key, held + end)]
                line, key, offset = line + 1, key + 1, offset + held + end + 1
                data, carry, held, skipping = data[end + 1:], [], 0, False
                if not data:
                    continue
            else:
                carry.append(data)
                held += len(data)
                continue
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry.append(data)
            held += len(data)
            continue
        chunk = b"".join([*carry, data[:cut]])
        carry, held = [data[cut:]] if cut < len(data) else [], len(data) - cut
        yield _block(path, line, key, chunk, offset if seekable else -1)
        newlines, inputs = _count_lines(chunk)
        line += newlines
        key += inputs
        offset += len(chunk)
    if skipping:
        yield [_too_long(path, line, key, held)]
        return key + 1
    if held:
        rest = b"".join(carry)
        yield _block(path, line, key, rest, offset if seekable else -1)
        key += _count_lines(rest)[1]
    return key


def _too_long(path: str, line: int, key: int, size: int) -> Item:
    return Item(key, "jsonl", path, line, InputError.at(
        path, line, 1, f"line is {size} bytes, over the limit of {MAX_LINE_BYTES} bytes per JSON line"))


def _block(path: str, line: int, key: int, data: bytes, offset: int) -> Block:
    if offset < 0:
        return Block(path, line, key, data)
    return Block(path, line, key, data, offset, len(data), zlib.crc32(data))


def _records(path: str, fmt: str, stdin) -> Iterator[tuple[int, Any]]:
    """(line, payload) for each record of a CSV file or of YAML on stdin."""
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
            yield 1, fh.read(max_bytes() + 1)      # load_yaml refuses what is over the limit
        else:
            yield from _csv_rows(path, fh)
    finally:
        if close:
            fh.close()


class _LongLine(Exception):
    pass


def _bounded_lines(fh: Any) -> Iterator[str]:
    """The lines of a text file, refusing one longer than MAX_LINE_BYTES characters before it is
    read whole."""
    while True:
        text = fh.readline(MAX_LINE_BYTES + 1)
        if not text:
            return
        if len(text) > MAX_LINE_BYTES:
            raise _LongLine()
        yield text


def _csv_rows(path: str, fh) -> Iterator[tuple[int, Any]]:
    reader = csv.reader(_bounded_lines(fh))
    try:
        header = next(reader, None)
        if header is None:
            return
        if len(header) > MAX_CSV_COLUMNS:
            yield reader.line_num, InputError.at(path, reader.line_num, 1, f"CSV header has {len(header)} columns, "
                                                 f"over the limit of {MAX_CSV_COLUMNS}; the file is skipped")
            return
        header = [h.strip().lstrip("\ufeff") for h in header]
        counts = Counter(header)
        repeated = sorted(h for h, n in counts.items() if n > 1)
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
            bad = _unsafe_cell(path, reader.line_num, header, row)
            yield reader.line_num, bad if bad is not None else dict(zip(header, row))
    except _LongLine:
        yield reader.line_num + 1, InputError.at(path, reader.line_num + 1, 1, f"line is over the limit of "
                                                 f"{MAX_LINE_BYTES} characters; the rest of the file is skipped")
    except (csv.Error, UnicodeDecodeError) as exc:
        yield reader.line_num, InputError.at(path, reader.line_num, 1, f"bad CSV: {exc}; the rest of the file is skipped")


def _unsafe_cell(path: str, line: int, header: list[str], row: list[str]) -> Optional[InputError]:
    for col, cell in enumerate(row, start=1):
        bad = find_unsafe(cell)
        if bad >= 0:
            return InputError.at(path, line, col, f"column {header[col - 1]!r}: {describe(cell[bad])} is not allowed")
    return None


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
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


_JSONL_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)
_SCAN = _JSONL_DECODER.scan_once


def _decode_line(text: str) -> Any:
    """A JSON line's value. A line that is one JSON object with nothing around it (the usual
    case) goes straight to the decoder's scanner; anything else takes `decode`, which skips
    white space and words the errors."""
    if text[:1] == "{":
        try:
            data, end = _SCAN(text, 0)
        except (StopIteration, ValueError):
            data, end = None, -1       # decoded again below, for the error's position and wording
        if end == len(text) or (end > 0 and not text[end:].strip(" \t\r\n")):
            return data
    return _JSONL_DECODER.decode(text)


def parse_item(item: Item, program: Program) -> Applicant:
    """The applicant of one input; InputError when it cannot be read or is invalid."""
    if isinstance(item.payload, InputError):
        raise item.payload
    if item.kind == "yaml":
        applicant, problems = check_applicant(item.path, program, item.payload)
        problems.raise_if_any()
        return applicant  # type: ignore[return-value]
    if item.kind == "jsonl":
        data = _json_value(item)
        return _bulk_applicant(item, program, data, _line_digest(item.payload))
    data = csv_profile(item.payload)
    return _bulk_applicant(item, program, data, hashlib.sha256(json.dumps(item.payload, sort_keys=True).encode("utf-8")).hexdigest())


def parse_items(items: Sequence[Item], program: Program) -> list[Union[Applicant, InputError]]:
    """`parse_item` of each item, with its InputError in place of an applicant that cannot be
    read. JSON lines are taken a step at a time (every line's JSON, then every hash, then every
    profile): for a group of inputs that is faster than one input after the other."""
    lines = [item for item in items if item.kind == "jsonl" and type(item.payload) is str]
    if len(lines) < len(items):
        return [_parsed(item, program) for item in items]
    values: list[Any] = []
    for item in lines:
        try:
            values.append(_json_value(item))
        except InputError as exc:
            values.append(exc)
    digests = [_line_digest(item.payload) for item in lines]
    out: list[Union[Applicant, InputError]] = []
    for item, data, digest in zip(lines, values, digests):
        if isinstance(data, InputError):
            out.append(data)
            continue
        try:
            out.append(_bulk_applicant(item, program, data, digest))
        except InputError as exc:
            out.append(exc)
    return out


def _parsed(item: Item, program: Program) -> Union[Applicant, InputError]:
    try:
        return parse_item(item, program)
    except InputError as exc:
        return exc


def _json_value(item: Item) -> Any:
    try:
        value = _decode_line(item.payload)
        if "\\u" in item.payload or _may_hold_raw_unsafe(item.payload):
            _refuse_unsafe(item, value)
        return value
    except _DuplicateKey as exc:
        raise InputError.at(item.path, item.line, 1, f"duplicate key {exc.args[0]!r}") from None
    except ValueError as exc:
        raise InputError.at(item.path, item.line, getattr(exc, "colno", 1), f"invalid JSON: {getattr(exc, 'msg', exc)}") from None
    except RecursionError:
        raise InputError.at(item.path, item.line, 1, "JSON nested too deeply") from None


def _may_hold_raw_unsafe(text: str) -> bool:
    """Whether the text of a line that decoded as JSON may hold, as itself, a character that no
    input text may. JSON refuses every raw character below U+0020 but space, tab, CR and LF (none
    of them unsafe), in strings and between tokens, so in ASCII text DEL is the only one left to
    look for."""
    if text.isascii():
        return "\x7f" in text
    return UNSAFE_IN_TEXT.search(text) is not None


def _refuse_unsafe(item: Item, value: Any) -> None:
    """An InputError when a string of the line's value (a key or a value) holds a character that no
    input text may (written raw, or as an escape such as \\u001b or \\ud800)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack += v.keys()
            stack += v.values()
        elif isinstance(v, list):
            stack += v
        elif isinstance(v, str) and find_unsafe(v) >= 0:
            char = v[find_unsafe(v)]
            raw = item.payload.find(char)
            escaped = item.payload.lower().find(f"\\u{ord(char):04x}")
            col = raw if raw >= 0 else escaped
            raise InputError.at(item.path, item.line, col + 1 if col >= 0 else 1, f"{describe(char)} is not allowed")


def _line_digest(text: str) -> str:
    return hashlib.sha256(text.rstrip("\r\n").encode("utf-8")).hexdigest()


def _bulk_applicant(item: Item, program: Program, data: Any, digest: str) -> Applicant:
    """The applicant of a JSON line's or CSV row's data, reported at the item's line."""
    problems = Problems(item.path)
    shown = f"{item.path}:{item.line}" if item.line else item.path
    applicant = applicant_from_data(data, program, shown, digest, problems, require_evidence=False, line=item.line)
    problems.raise_if_any()
    return applicant  # type: ignore[return-value]
