"""Engine agreement on random profiles (a script, not a test).

    PYTHONPATH=src python benchmarks/agree.py RULES [--n 100000] [--seed 1]

Writes N random profiles for the rules file's fact schema (JSON Lines: every type, range ends and
values next to them, the constants the rules compare with, `unknown` and, for optional facts,
`none`), runs `eligibility batch --engine both` on them (durable and python evaluate every
applicant and the run stops at the first node where they disagree) and prints the verdict counts.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from eligibility.language.rules import load_program  # noqa: E402


def pool(spec) -> list:
    """Values worth trying for one fact (JSON-ready)."""
    if spec.type == "bool":
        return [True, False]
    if spec.type == "enum":
        return list(spec.values)
    if spec.type == "list":
        items = list(spec.values) or ["a", "b", "c"]
        return [[], items[:1], items[1:3], items]
    if spec.type == "string":
        return ["a", "b", "", "한국어"]
    if spec.type == "date":
        days = [dt.date(2020, 1, 1), dt.date(2023, 3, 30), dt.date(2023, 3, 31), dt.date(2023, 4, 1),
                dt.date(2024, 2, 29), dt.date(2026, 3, 31), dt.date(1, 1, 1), dt.date(9999, 12, 31)]
        return [d.isoformat() for d in days]
    low, high = spec.range if spec.range else (-1000, 1000)
    if spec.type == "int":
        return sorted({low, low + 1, (low + high) // 2, high - 1, high, 0 if low <= 0 <= high else low})
    mid = (low + high) / 2
    return sorted({low, high, mid, low + (high - low) * 0.2499, low + (high - low) * 0.25, low + (high - low) * 0.4})


def profile(rng: random.Random, i: int, program) -> dict:
    facts = {}
    for name, spec in program.facts.items():
        r = rng.random()
        if r < 0.1:
            facts[name] = "unknown"
        elif r < 0.2 and spec.optional:
            facts[name] = "none"
        else:
            facts[name] = rng.choice(pool(spec))
    return {"id": f"r{i:07d}", "name": f"Random {i:07d}", "facts": facts}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("rules")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    program = load_program(args.rules)
    rng = random.Random(args.seed)
    tmp = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        pop, out = os.path.join(d, "pop.jsonl"), os.path.join(d, "out.jsonl")
        with open(pop, "w", encoding="utf-8") as fh:
            for i in range(args.n):
                fh.write(json.dumps(profile(rng, i, program)) + "\n")
        cli = os.path.join(os.path.dirname(sys.executable), "eligibility")
        start = time.perf_counter()
        run = subprocess.run([cli, "batch", pop, "--rules", args.rules, "--engine", "both", "--format", "jsonl",
                              "-o", out], capture_output=True, text=True)
        took = time.perf_counter() - start
        verdicts: collections.Counter = collections.Counter()
        with open(out, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                verdicts[rec.get("final_verdict") or rec.get("verdict") or rec.get("schema")] += 1
    disagreements = run.stderr.count("engines disagree")
    print(f"{args.rules}: {args.n:,} random profiles, --engine both, exit {run.returncode}, {took:.1f} s")
    print(f"  output lines by verdict: {dict(verdicts)}")
    print(f"  engine disagreements reported: {disagreements}")
    if run.returncode not in (0, 1) or disagreements:
        print(run.stderr[-2000:])


if __name__ == "__main__":
    main()
