"""Time and peak memory of `eligibility check` on every hostile file (as profile and as rules file).

    PYTHONPATH=src python benchmarks/hostile.py [--limit-s 2] [--limit-mb 200]

Prints one row per file and run; the acceptance bar is < 2 s and < 200 MB RSS per run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from hostile_corpus import GOOD_PROFILE, corpus, write  # noqa: E402

RULES = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")


def run(args: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB, exit code and first stderr line of one CLI run."""
    exe = os.path.join(os.path.dirname(sys.executable), "eligibility")
    exe = exe if os.path.exists(exe) else shutil.which("eligibility") or "eligibility"
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err.seek(0)
        first = err.read().decode("utf-8", "replace").splitlines()[:1]
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, first[0] if first else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit-s", type=float, default=2.0)
    ap.add_argument("--limit-mb", type=float, default=200.0)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        files = write(d, corpus(open(RULES, encoding="utf-8").read()))
        good = write(d, {"good_profile.yaml": GOOD_PROFILE.encode()})["good_profile.yaml"]
        worst_t = worst_m = 0.0
        bad = 0
        print(f"{'file':28} {'as':8} {'exit':>4} {'seconds':>8} {'MB':>7}  message")
        for name, path in sorted(files.items()):
            for role, args in (("profile", ["check", path, "--rules", RULES]),
                               ("rules", ["check", good, "--rules", path])):
                t, mb, code, line = run(args)
                worst_t, worst_m = max(worst_t, t), max(worst_m, mb)
                over = t > opts.limit_s or mb > opts.limit_mb or code != 2 or "Traceback" in line
                bad += over and not (role == "rules" and name == "rules_file.yaml")
                print(f"{name:28} {role:8} {code:>4} {t:8.2f} {mb:7.1f}  {line[:90]}{'  <-- OVER' if over else ''}")
        print(f"worst: {worst_t:.2f} s, {worst_m:.1f} MB; runs over the bar: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
