"""Time and peak memory of `eligibility check` on every hostile file (as profile and as rules file).

    PYTHONPATH=src python benchmarks/hostile.py [--limit-s 2] [--limit-mb 200]
    PYTHONPATH=src python benchmarks/hostile.py --report 100000

Prints one row per file and run; the acceptance bar is < 2 s and < 200 MB RSS per run. Then each
budget of SECURITY.md at 1x and 10x its size (see `budgets`). With --report N, only the peak RSS
of `eligibility report` over N applicants (bar: 300 MB).
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
sys.path.insert(0, os.path.join(ROOT, "src"))
from hostile_corpus import GOOD_PROFILE, corpus, write  # noqa: E402

RULES = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")


def run(args: list[str], env: dict | None = None, stdin=None) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB, exit code and first stderr line of one CLI run."""
    exe = os.path.join(os.path.dirname(sys.executable), "eligibility")
    exe = exe if os.path.exists(exe) else shutil.which("eligibility") or "eligibility"
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL, stderr=err, stdin=stdin,
                                env=dict(os.environ, **(env or {})))
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        err.seek(0)
        first = err.read().decode("utf-8", "replace").splitlines()[:1]
    return elapsed, usage.ru_maxrss / 1024, proc.returncode, first[0] if first else ""


def report_memory(n: int, limit_mb: float) -> int:
    """Peak RSS of `eligibility report` over n generated applicants (bench.py's population), read
    with getrusage(RUSAGE_CHILDREN): the report is this process's only child."""
    import resource
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import bench
    with tempfile.TemporaryDirectory() as d:
        pop, out = os.path.join(d, "pop.jsonl"), os.path.join(d, "report.html")
        bench.write_population(pop, n)
        t, mb, code, line = run(["report", pop, "--rules", RULES, "-o", out])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        size = os.path.getsize(out) / 2**20 if os.path.exists(out) else 0
    over = code != 0 or peak > limit_mb
    print(f"report over {n:,} applicants: exit {code}, {t:.1f} s, peak RSS {peak:.1f} MB (wait4: {mb:.1f} MB), "
          f"page {size:.0f} MB  {line[:90]}{'  <-- OVER' if over else ''}")
    return int(over)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit-s", type=float, default=2.0)
    ap.add_argument("--limit-mb", type=float, default=200.0)
    ap.add_argument("--report", type=int, metavar="N",
                    help="only measure `report` over N generated applicants (bar: 300 MB peak RSS)")
    opts = ap.parse_args()
    if opts.report:
        return report_memory(opts.report, 300.0)
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
        bad += budgets(d, opts.limit_s, opts.limit_mb)
    return 1 if bad else 0


def budget_inputs(d: str, times: int) -> dict[str, tuple[list[str], dict]]:
    """Batch inputs `times` times the size of each budget of SECURITY.md: name -> (args, environment)."""
    from eligibility.core.errors import MAX_PROBLEMS
    from eligibility.program.inputs import MAX_CSV_COLUMNS, MAX_LINE_BYTES
    good = '{"id": "a", "name": "A", "facts": {}}\n'
    files = {
        "json_line.jsonl": good + '{"id": "x", "name": "' + "n" * (times * MAX_LINE_BYTES) + '", "facts": {}}\n' + good,
        "csv_line.csv": "id,name\na,A\nb," + "x" * (times * MAX_LINE_BYTES) + "\n",
        "csv_columns.csv": ",".join(f"c{i}" for i in range(times * MAX_CSV_COLUMNS)) + "\n1\n",
        "problems.jsonl": '{"id": "u", "name": "U", "facts": {' + ", ".join(
            f'"f{i}": 1' for i in range(times * MAX_PROBLEMS * 100)) + "}}\n",
    }
    out = {}
    for name, text in files.items():
        path = os.path.join(d, f"{times}x_{name}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        out[name] = (["batch", path, "--rules", RULES, "-f", "jsonl"], {})
    stdin = os.path.join(d, f"{times}x_stdin.yaml")
    with open(stdin, "w", encoding="utf-8") as fh:
        fh.write("id: x\nname: " + "n" * (times * 8000) + "\nfacts: {}\n")
    out["yaml_stdin"] = (["batch", "-", "--input-format", "yaml", "--rules", RULES, "-f", "jsonl", "<", stdin],
                         {"ELIGIBILITY_MAX_INPUT_BYTES": "8000"})
    return out


def run_budget(args: list[str], env: dict) -> tuple[float, float, int, str]:
    if "<" in args:
        i = args.index("<")
        with open(args[i + 1], "rb") as fh:
            return run(args[:i], env, stdin=fh)
    return run(args, env)


def budgets(d: str, limit_s: float, limit_mb: float) -> int:
    """Each budget at 1x and 10x its size: a 10x input must be refused (exit 2, one line) in about the
    time and memory of the 1x one (bar: the limits, and 10x within 3 times the 1x figures + 0.5 s, 30 MB)."""
    print(f"\n{'budget':18} {'size':>4} {'exit':>4} {'seconds':>8} {'MB':>7}  message")
    one, ten = budget_inputs(d, 1), budget_inputs(d, 10)
    bad = 0
    for name in one:
        t1, m1, c1, l1 = run_budget(*one[name])
        t10, m10, c10, l10 = run_budget(*ten[name])
        over = (c10 != 2 or "Traceback" in l10 or t10 > limit_s or m10 > limit_mb
                or t10 > 3 * t1 + 0.5 or m10 > 3 * m1 + 30)
        bad += over
        print(f"{name:18} {'1x':>4} {c1:>4} {t1:8.2f} {m1:7.1f}  {l1[:90]}")
        print(f"{name:18} {'10x':>4} {c10:>4} {t10:8.2f} {m10:7.1f}  {l10[:90]}{'  <-- OVER' if over else ''}")
    print(f"budgets over the bar: {bad}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
