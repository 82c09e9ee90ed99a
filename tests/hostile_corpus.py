"""A corpus of hostile input files, generated on demand (shared by the tests and benchmarks/hostile.py).

Each entry: file name -> (bytes, expected message fragment, expected (line, col) or None if unknown).
"""
from __future__ import annotations

import os

GOOD_PROFILE = """id: acme
name: Acme
facts:
  in_house_architecture:
    value: true
    evidence: {kind: press, note: n, source: {title: t}}
"""


def _laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def corpus(rules_text: str) -> dict[str, tuple[bytes, str, tuple[int, int] | None]]:
    """Hostile files. `rules_text` is a real rules file (to feed it where a profile is expected)."""
    good = GOOD_PROFILE
    big_line = "x" * 1000
    return {
        "billion_laughs.yaml": (_laughs().encode(), "alias expansion", (6, 15)),
        "deep_flow_seq.yaml": (("a: " + "[" * 10000 + "]" * 10000 + "\n").encode(), "nesting", (1, 0)),
        "deep_flow_map.yaml": (("a: " + "{a: " * 10000 + "1" + "}" * 10000 + "\n").encode(), "nesting", (1, 256)),
        "deep_block_seq.yaml": (("- " * 10000 + "1\n").encode(), "nesting too deep", (1, 129)),
        "deep_block_map.yaml": ("".join(" " * i + "a:\n" for i in range(2000)).encode() + b"b\n",
                                "nesting too deep", (65, 65)),
        "python_object.yaml": (b"id: !!python/object/apply:os.system ['echo pwned']\n", "unsupported tag", (1, 5)),
        "python_name.yaml": (b"id: !!python/name:os.system\n", "unsupported tag", (1, 5)),
        "binary.yaml": (b"id: !!binary aGVsbG8=\n", "unsupported tag", (1, 5)),
        "set.yaml": (b"id: !!set {a, b}\n", "unsupported tag", (1, 5)),
        "omap.yaml": (b"id: !!omap [a: 1]\n", "unsupported tag", (1, 5)),
        "local_tag.yaml": (b"id: !secret value\n", "unsupported tag", (1, 5)),
        "merge_key.yaml": (b"base: &b {id: x}\nother:\n  <<: *b\n", "merge keys", (3, 3)),
        "duplicate_top.yaml": ((good + "id: other\n").encode(), "duplicate key 'id'", (7, 1)),
        "duplicate_nested.yaml": (b"id: a\nname: b\nfacts:\n  x:\n    value: 1\n    value: 2\n",
                                  "duplicate key 'value' (first at line 5)", (6, 5)),
        "complex_key.yaml": (b"? [a, b]\n: 1\n", "keys must be plain scalars", (1, 3)),
        "ten_megabytes.yaml": (b"id: a\nnotes: |\n" + (b"  " + big_line.encode() + b"\n") * 10500,
                               "over the limit", None),
        "dense_under_size_limit.yaml": (("a: [" + "1," * 2_400_000 + "1]\n").encode(), "document too large", (1, 0)),
        "invalid_utf8.yaml": (good.encode().replace(b"Acme", b"Ac\xffme"), "not valid UTF-8 (byte offset 17)", (2, 9)),
        "latin1.yaml": ("id: acme\nname: Société\n".encode("latin-1"), "not valid UTF-8 (byte offset 19)", (2, 11)),
        "nul_byte.yaml": (good.replace("Acme", "Ac\x00me").encode(), "control character U+0000", (2, 9)),
        "escape_char.yaml": (good.replace("Acme", "Ac\x1b[31mme").encode(), "control character U+001B", (2, 9)),
        "two_documents.yaml": ((good + "---\nid: b\n").encode(), "second", (7, 1)),
        "syntax_error.yaml": (b"id: acme\nname: [unclosed\nfacts: {}\n", "invalid YAML", None),
        "tab_indent.yaml": (b"id: acme\nfacts:\n\tx: 1\n", "invalid YAML", (3, 1)),
        "huge_line.yaml": (("id: acme\nname: " + "x" * 4_000_000 + "\n").encode(), "missing 'facts'", (1, 1)),
        "empty.yaml": (b"", "must be a mapping", (1, 1)),
        "only_comment.yaml": (b"# nothing here\n", "must be a mapping", (1, 1)),
        "top_level_list.yaml": (b"- id: a\n- id: b\n", "must be a mapping", (1, 1)),
        "top_level_scalar.yaml": (b"just text\n", "must be a mapping", (1, 1)),
        "rules_file.yaml": (rules_text.encode(), "this is a rules file", (1, 1)),
        "bad_int_key.yaml": (b"id: a\nname: b\nfacts:\n  1: {value: 1}\n", "unknown fact '1'", (4, 3)),
        "huge_int.yaml": (b"id: a\nname: b\nfacts:\n  model_generations:\n    value: " + b"9" * 5000
                          + b"\n    evidence: {kind: press, note: n, source: {title: t}}\n", "number is too long", (5, 12)),
    }


#: Valid variants that must load exactly like GOOD_PROFILE.
def benign() -> dict[str, bytes]:
    return {
        "crlf.yaml": GOOD_PROFILE.replace("\n", "\r\n").encode(),
        "bom.yaml": b"\xef\xbb\xbf" + GOOD_PROFILE.encode(),
        "plain.yaml": GOOD_PROFILE.encode(),
    }


def write(directory: str, files: dict) -> dict[str, str]:
    """Write the corpus to `directory`; returns name -> path."""
    os.makedirs(directory, exist_ok=True)
    out = {}
    for name, entry in files.items():
        data = entry[0] if isinstance(entry, tuple) else entry
        path = os.path.join(directory, name)
        with open(path, "wb") as fh:
            fh.write(data)
        out[name] = path
    return out
