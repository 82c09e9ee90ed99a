"""Safe YAML loading with source positions.

PyYAML's safe_load keeps the last of duplicate keys, expands aliases without limit
once the data is walked, recurses without a depth limit and accepts tags such as
!!set. Here the file is composed to a node graph and built by hand, so that every
one of those is refused with a `file:line:col` message, and every mapping and list
remembers where each of its values came from.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import InputError

MAX_BYTES = int(os.environ.get("ELIGIBILITY_MAX_INPUT_BYTES", 5 * 1024 * 1024))
MAX_DEPTH = 64
MAX_NODES = 200_000          # nodes built, aliases counted each time they are expanded

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
}
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


@dataclass(frozen=True)
class Pos:
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


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1, getattr(node, "style", None))


def read_text(path: str, data: bytes | None = None) -> str:
    """Read a file as UTF-8 text, refusing oversized or non-UTF-8 input with a clear message."""
    if data is None:
        try:
            size = os.path.getsize(path)
            if size > MAX_BYTES:
                raise InputError.at(path, 0, 0, f"file is {size} bytes, over the limit of {MAX_BYTES} "
                                    "(set ELIGIBILITY_MAX_INPUT_BYTES to change it)")
            with open(path, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise InputError.at(path, 0, 0, f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError.at(path, 0, 0, f"input is over the limit of {MAX_BYTES} bytes "
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


def load_yaml(path: str, text: str | None = None) -> Any:
    """Load one YAML document from `path` (or from `text`, reported as `path`)."""
    if text is None:
        text = read_text(path)
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError.at(path, 0, 0, f"input is over the limit of {MAX_BYTES} bytes")
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        raise InputError.at(path, line, col, f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise InputError.at(path, 0, 0, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise InputError.at(path, 0, 0, f"nesting too deep (limit {MAX_DEPTH} levels)") from None
    if root is None:
        return None
    return _Builder(path).build(root, 0)


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.nodes = 0
        self.scalars = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> InputError:
        p = _pos(node)
        return InputError.at(self.path, p.line, p.col, message)

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"document too large after alias expansion (limit {MAX_NODES} nodes)")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"nesting too deep (limit {MAX_DEPTH} levels)")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self.fail(node, f"unsupported tag {node.tag!r}")
            out = YList(self.build(item, depth + 1) for item in node.value)
            out.start, out.item_pos = _pos(node), [_pos(item) for item in node.value]
            return out
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise self.fail(node, f"unsupported tag {node.tag!r}")
            out = YMap()
            out.start, out.key_pos, out.value_pos = _pos(node), {}, {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, "merge keys ('<<') are not supported")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, "mapping keys must be plain scalars")
                key = self.scalar(key_node)
                if isinstance(key, (list, dict)) or key is None:
                    raise self.fail(key_node, "mapping keys must be strings or numbers")
                if key in out:
                    first = out.key_pos[key]
                    raise self.fail(key_node, f"duplicate key {key!r} (first at line {first.line})")
                out[key] = self.build(value_node, depth + 1)
                out.key_pos[key], out.value_pos[key] = _pos(key_node), _pos(value_node)
            return out
        raise self.fail(node, "unsupported YAML node")

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, f"unsupported tag {node.tag!r} (only plain YAML data is accepted)")
        try:
            return self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise self.fail(node, f"invalid value: {exc}") from None
