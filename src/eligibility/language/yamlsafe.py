"""Safe YAML loading with source positions.

PyYAML's safe_load keeps the last of duplicate keys, expands aliases without limit
once the data is walked, recurses without a depth limit and accepts tags such as
!!set. Here the parser's events are turned into data by hand, without recursion, so
that every one of those is refused with a `file:line:col` message (as are control
characters, oversize input and non-UTF-8 bytes), and every mapping and list
remembers where each of its values came from.
"""
from __future__ import annotations

import os
import stat
import re
from typing import Any, NamedTuple

import yaml

from eligibility.core.text import describe, find_unsafe
from eligibility.core.errors import MAX_PROBLEMS, InputError, Problem

MAX_BYTES = 5 * 1024 * 1024  # default; ELIGIBILITY_MAX_INPUT_BYTES overrides it (see max_bytes)
MAX_DEPTH = 64
MAX_NODES = 200_000          # nodes built, aliases counted each time they are expanded

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
}
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
MAX_NUMBER_CHARS = 100       # a longer integer costs quadratic time to convert
_NO_KEY = object()
_DUPLICATE = object()            # the key being read repeats an earlier one
# YAML's printable set (tab, LF, CR, NEL allowed): checked up front for an exact line and column.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# libyaml parses about 20 times faster than pure Python: it keeps a 5 MB input under a second.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Pos(NamedTuple):
    """Where a value starts: 1-based line and column, and the scalar style (None = plain)."""

    line: int
    col: int
    style: str | None = None


class YMap(dict):
    """A mapping that remembers the position of itself, of its keys and of its values."""

    start: Pos
    key_pos: dict
    value_pos: dict

    def pos(self, key: Any) -> Pos:
        return self.value_pos.get(key, self.start)

    def kpos(self, key: Any) -> Pos:
        return self.key_pos.get(key, self.start)


class YList(list):
    """A list that remembers the position of itself and of each item."""

    start: Pos
    item_pos: list

    def pos(self, index: int) -> Pos:
        return self.item_pos[index] if 0 <= index < len(self.item_pos) else self.start


def _pos(event: Any) -> Pos:
    """Position of a parser event; plain scalars have style None (libyaml reports '')."""
    return Pos(event.start_mark.line + 1, event.start_mark.column + 1, getattr(event, "style", None) or None)


def max_bytes() -> int:
    """The input size limit in bytes: ELIGIBILITY_MAX_INPUT_BYTES, read at each call."""
    raw = os.environ.get("ELIGIBILITY_MAX_INPUT_BYTES")
    if raw is None or not raw.strip():
        return MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise InputError.at("ELIGIBILITY_MAX_INPUT_BYTES", 0, 0, f"must be a positive whole number of bytes, got {raw!r}")
    return value


def read_text(path: str, data: bytes | None = None) -> str:
    """Read a file as UTF-8 text, refusing oversized or non-UTF-8 input with a clear message."""
    limit = max_bytes()
    if data is None:
        try:
            info = os.stat(path)
            if stat.S_ISDIR(info.st_mode):
                raise InputError.at(path, 0, 0, "is a directory, not a file")
            if not stat.S_ISREG(info.st_mode):     # a FIFO or device would block or never end
                raise InputError.at(path, 0, 0, "not a regular file")
            size = info.st_size
            if size > limit:
                raise InputError.at(path, 0, 0, f"file is {size} bytes, over the limit of {limit} "
                                    "(set ELIGIBILITY_MAX_INPUT_BYTES to change it)")
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            raise InputError.at(path, 0, 0, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError.at(path, 0, 0, f"input is over the limit of {limit} bytes "
                            "(set ELIGIBILITY_MAX_INPUT_BYTES to change it)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError.at(path, line, col, f"not valid UTF-8 (byte offset {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load_yaml(path: str, text: str | None = None) -> Any:
    """Load one YAML document from `path` (or from `text`, reported as `path`)."""
    if text is None:
        text = read_text(path)
    else:
        limit = max_bytes()
        if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
            raise InputError.at(path, 0, 0, f"input is over the limit of {limit} bytes "
                                "(set ELIGIBILITY_MAX_INPUT_BYTES to change it)")
        if text.startswith("\ufeff"):
            text = text[1:]
    bad = _FORBIDDEN_CHARS.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        raise InputError.at(path, line, col, f"control character U+{ord(bad.group()):04X} is not allowed in YAML")
    loader = _LOADER(text)
    try:
        return _Builder(path, loader).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise InputError.at(path, line, col, f"invalid YAML: {message}") from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise InputError.at(path, line, col, f"invalid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise InputError.at(path, 0, 0, "invalid YAML: " + " ".join(str(exc).split())) from None
    except (RecursionError, MemoryError):
        raise InputError.at(path, 0, 0, f"document too large or nested too deeply (limit {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()


class _Frame:
    """An open mapping or list while the document is built (the build keeps its own stack)."""

    __slots__ = ("value", "pos", "anchor", "nodes_before", "key", "key_pos")

    def __init__(self, value: YMap | YList, pos: Pos, anchor: str | None, nodes_before: int):
        self.value, self.pos, self.anchor, self.nodes_before = value, pos, anchor, nodes_before
        self.key: Any = _NO_KEY
        self.key_pos: Pos | None = None


class _Builder:
    """Builds YMap/YList/scalars straight from parser events, iteratively (no recursion),
    counting every node (an alias counts as many nodes as it expands to) and the depth."""

    def __init__(self, path: str, loader: Any):
        self.path = path
        self.loader = loader
        self.nodes = 0
        self.anchors: dict[str, tuple[Any, Pos, int]] = {}
        self.scalars = yaml.constructor.SafeConstructor()
        self.problems: list[Problem] = []     # found on the way (duplicate keys, YAML 1.1 surprises)

    def fail(self, event: Any, message: str) -> InputError:
        mark = event.start_mark
        return InputError.at(self.path, mark.line + 1, mark.column + 1, message)

    def count(self, n: int, event: Any) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            how = " after alias expansion" if self.anchors else ""
            raise self.fail(event, f"document too large{how} (limit {MAX_NODES} nodes)")

    def note(self, event: Any, message: str) -> None:
        """A problem that does not stop the build: all are reported at the end (the first MAX_PROBLEMS)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(self.fail(event, message).problems[0])

    def plain_surprise(self, ev: Any, tag: str, value: Any) -> None:
        why = _surprise(ev.value, tag, value)
        if why:
            self.note(ev, why)

    def document(self) -> Any:
        ld = self.loader
        ld.get_event()                                   # StreamStart
        if ld.check_event(yaml.StreamEndEvent):
            return None
        ld.get_event()                                   # DocumentStart
        root = self.value()
        ld.get_event()                                   # DocumentEnd
        if not ld.check_event(yaml.StreamEndEvent):
            self.note(ld.get_event(), "expected a single YAML document, found a second one")
        if self.problems:
            raise InputError(self.problems)
        return root

    def value(self) -> Any:
        ld, stack = self.loader, []
        while True:
            ev = ld.get_event()
            parent = stack[-1] if stack else None
            wants_key = parent is not None and isinstance(parent.value, YMap) and parent.key is _NO_KEY
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if wants_key:
                    raise self.fail(ev, "mapping keys must be plain scalars")
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(ev, f"nesting too deep (limit {MAX_DEPTH} levels)")
                self.count(1, ev)
                is_map = isinstance(ev, yaml.MappingStartEvent)
                if ev.tag not in (None, "!", _MAP_TAG if is_map else _SEQ_TAG):
                    raise self.fail(ev, f"unsupported tag {ev.tag!r} (only plain YAML data is accepted)")
                container: YMap | YList
                if is_map:
                    container = YMap()
                    container.key_pos, container.value_pos = {}, {}
                else:
                    container = YList()
                    container.item_pos = []
                container.start = _pos(ev)
                stack.append(_Frame(container, container.start, ev.anchor, self.nodes - 1))
                continue
            if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                value, pos = frame.value, frame.pos
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (value, pos, self.nodes - frame.nodes_before)
                parent = stack[-1] if stack else None
                wants_key = parent is not None and isinstance(parent.value, YMap) and parent.key is _NO_KEY
            elif isinstance(ev, yaml.AliasEvent):
                if wants_key:
                    raise self.fail(ev, "mapping keys must be plain scalars, not aliases")
                if ev.anchor not in self.anchors:
                    raise self.fail(ev, f"alias *{ev.anchor} refers to no complete anchor")
                value, pos, size = self.anchors[ev.anchor]
                self.count(size, ev)
            elif isinstance(ev, yaml.ScalarEvent):
                self.count(1, ev)
                value, pos = self.scalar(ev, wants_key), _pos(ev)
                if ev.anchor is not None:
                    self.anchors[ev.anchor] = (value, pos, 1)
            else:
                raise self.fail(ev, f"unexpected YAML event {type(ev).__name__}")
            if parent is None:
                return value
            if isinstance(parent.value, YList):
                parent.value.append(value)
                parent.value.item_pos.append(pos)
            elif wants_key:
                if value in parent.value or value in parent.value.key_pos:
                    first = parent.value.key_pos[value]
                    self.note(ev, f"duplicate key {_show(value)} (first at line {first.line})")
                    parent.key, parent.key_pos = _DUPLICATE, pos     # its value is read, then left out
                    continue
                parent.key, parent.key_pos = value, pos
            elif parent.key is _DUPLICATE:
                parent.key = _NO_KEY
            else:
                parent.value[parent.key] = value
                parent.value.key_pos[parent.key], parent.value.value_pos[parent.key] = parent.key_pos, pos
                parent.key = _NO_KEY

    def scalar(self, ev: Any, is_key: bool) -> Any:
        tag = ev.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, ev.value, ev.implicit)
        if is_key and tag == "tag:yaml.org,2002:merge":
            raise self.fail(ev, "merge keys ('<<') are not supported")
        if tag not in _SCALAR_TAGS:
            raise self.fail(ev, f"unsupported tag {tag!r} (only plain YAML data is accepted)")
        if tag in _NUMBER_TAGS and len(ev.value) > MAX_NUMBER_CHARS:
            raise self.fail(ev, f"number is too long ({len(ev.value)} characters, limit {MAX_NUMBER_CHARS})")
        node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style or None)
        try:
            value = self.scalars.yaml_constructors[tag](self.scalars, node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
            raise self.fail(ev, f"invalid value: {' '.join(str(exc).split())}") from None
        if ev.tag is None and not ev.style:
            self.plain_surprise(ev, tag, value)
        if is_key and (value is None or isinstance(value, (list, dict))):
            raise self.fail(ev, "mapping keys must be strings or numbers")
        if isinstance(value, str):
            bad = find_unsafe(value)
            if bad >= 0:     # written as an escape ("\\e", "\\u001b"): the raw character is refused above
                raise self.fail(ev, f"{describe(value[bad])} in text is not allowed")
        return value


_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")


def _surprise(text: str, tag: str, value: Any) -> str:
    """Why a plain scalar that YAML 1.1 reads in a way few people expect is refused, or ""."""
    if tag == "tag:yaml.org,2002:int" and not _PLAIN_INT.match(text):
        return (f"{text!r} is read as the number {value} by YAML 1.1 (octal, hexadecimal, binary, "
                "base 60 or with '_'): write it in decimal, or quote it to keep it as text")
    if tag == "tag:yaml.org,2002:float" and ":" in text:
        return f"{text!r} is read as the number {value} by YAML 1.1 (base 60): write it in decimal, or quote it"
    if tag == "tag:yaml.org,2002:bool" and text.lower() not in ("true", "false"):
        return f"{text!r} is read as {str(value).lower()} by YAML 1.1: write true or false, or quote it to keep it as text"
    return ""


def _show(value: Any) -> str:
    return repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
