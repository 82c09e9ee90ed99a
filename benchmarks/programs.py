"""Generated programmes for scale benchmarks and tests: copies of a rules file's concepts and criteria.

    python benchmarks/programs.py --copies 20 -o /tmp/x20.yaml
    python benchmarks/programs.py --criteria 1000 -o /tmp/c1000.yaml

Copy k (k >= 1) of every concept and criterion gets the id suffix `_k`, and its conditions refer
to the copied concepts, so every copy is an independent set of rules over the same facts and
each copy evaluates like the original. The `versions` list is dropped (its files are relative
to the original).
"""
from __future__ import annotations

import argparse
import copy
import math
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")


def copies(doc: dict, n: int, criteria: int | None = None) -> dict:
    """`doc` (a parsed rules file) with its concepts and criteria repeated `n` times; with
    `criteria`, the list of criteria is cut to that many."""
    out = copy.deepcopy(doc)
    out["program"].pop("versions", None)
    concepts, crits = doc.get("concepts") or [], doc["criteria"]
    ids = [c["id"] for c in concepts]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b") if ids else None
    out["concepts"], out["criteria"] = [], []
    for k in range(n):
        def rename(cond: str) -> str:
            return pattern.sub(lambda m: f"{m.group(1)}_{k}", cond) if pattern and k else cond
        for c in concepts:
            out["concepts"].append(dict(copy.deepcopy(c), id=c["id"] + (f"_{k}" if k else ""),
                                        condition=rename(c["condition"])))
        for c in crits:
            if k and c.get("kind") == "published":     # a rules file has at most one published criterion
                continue
            out["criteria"].append(dict(copy.deepcopy(c), id=c["id"] + (f"_{k}" if k else ""),
                                        condition=rename(c["condition"])))
    if criteria is not None:
        out["criteria"] = out["criteria"][:criteria]
    if not out["concepts"]:
        del out["concepts"]
    return out


def write(path: str, n: int = 1, criteria: int | None = None, source: str = SHIPPED) -> str:
    """Write the generated programme to `path`; `criteria` sets the copy count when given."""
    with open(source, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if criteria is not None:
        repeated = [c for c in doc["criteria"] if c.get("kind") != "published"]
        n = max(n, math.ceil(criteria / len(repeated)))
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(copies(doc, n, criteria), fh, allow_unicode=True, sort_keys=False)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=1)
    ap.add_argument("--criteria", type=int, help="this many criteria (copies as needed, then cut)")
    ap.add_argument("--source", default=SHIPPED)
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    write(args.output, args.copies, args.criteria, args.source)
    print(args.output, file=sys.stderr)


if __name__ == "__main__":
    main()
