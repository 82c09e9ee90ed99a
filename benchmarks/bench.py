"""Throughput benchmark for the shipped rules (a script, not a test).

    PYTHONPATH=src python benchmarks/bench.py                 # 1k, 10k, 100k
    PYTHONPATH=src python benchmarks/bench.py --sizes 10000   # one size
    PYTHONPATH=src python benchmarks/bench.py --million       # also 1M through JSON Lines
    PYTHONPATH=src python benchmarks/bench.py --peers         # also the peers (pip install -e '.[bench]')
    PYTHONPATH=src python benchmarks/bench.py --rules FILE    # any programme (no plain/peers rows)
    PYTHONPATH=src python benchmarks/bench.py --sweep         # rule-count sweep: 1x, 5x, 20x, 50x copies

For each size it writes a deterministic synthetic population (JSON Lines) and prints
applicants/s and peak RSS for:

* batch-j1 / batch-j2: `eligibility batch POP.jsonl --format jsonl -o OUT` (the CLI path,
  every record written; the output line count is checked);
* engine-python: the same with `--engine python`;
* ceiling: the same compiled ruleset (compiler.compile_program) driven directly through
  durable_rules_engine: assert the pre-encoded profile, run every action asserting its
  derived fact (when a rule reads it), delete the state; no trace, no decoding, no I/O;
* leaf-ceiling: the independent ceiling: the same, with only the rules of the programme's
  leaves (every leaf test once, nothing combined), which the compile cannot make cheaper;
* plain: a hand-written Python evaluation of the same conditions (three-valued), checked
  to agree with eligibility's verdicts on every applicant;
* py-nodes / py-evaluate / durable-evaluate: the evaluation step on the same pre-parsed
  profiles as `plain` (parsing is outside the timing for all of them): py-nodes is the
  closures computing every node's outcome (engine.python.CompiledNodes, what the engine does);
  py-evaluate and durable-evaluate are api.Evaluator(engine="python" or "durable").evaluate_all
  on groups of batch.GROUP with one batch memo (evaluate/memo.py), as a batch worker calls it,
  i.e. the nodes plus criteria, score, verdict, reason and missing facts (more than `plain`
  or the peers compute); py-evaluate-pure is the python one without the memo, every applicant
  assessed from scratch (what `check` and a memo miss pay);
* with --peers: zen-engine (evaluate_batch and one by one), json-logic-qubit and rule-engine
  running the same rules (benchmarks/peers.py), each checked against eligibility's verdict on
  every applicant (`mismatches`) and timed on pre-built inputs, as `plain` is;

then the ratios, and `eligibility check` wall time for one profile. Rows timed on inputs built
in advance (plain, py-*, durable-evaluate, the ceilings, the peers) start their clock with
`timing.timing_starts`, which first puts those inputs out of the garbage collector's reach: a
batch holds none of them, so the collector walking them is not part of the step measured. Files
go to /dev/shm when there is one. Each measurement runs in a fresh process so that its peak RSS
is its own. The rows that the targets compare (batch-j1, batch-j2, ceiling) run --repeat times
(3) in turn below 1M: the median run is shown, and the ratio of each pair of runs made together.
CLI rows show wall time (the rate) and the CPU seconds of the run (user + system, workers
included); on a shared machine rates move by several per cent from run to run, and the load
average is printed with the results."""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from timing import timing_starts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")
RULES = os.environ.get("ELIGIBILITY_BENCH_RULES", SHIPPED)     # --rules, passed on to the children
MODS = (["text"], ["text", "image"], ["text", "audio"], ["text", "video", "action"], ["text", "action"])


def profile(i: int) -> dict:
    """A deterministic synthetic applicant; about a third pass every gate and the threshold."""
    h = (i * 2654435761) & 0xFFFFFFFF            # a cheap deterministic hash of i
    bit = lambda k: (h >> k) & 1                 # noqa: E731
    facts = {
        "in_house_architecture": bool(bit(0) or bit(1)),
        "pretrained_from_scratch": (h >> 2) % 5 != 0,
        "initialised_from_foreign_weights": (h >> 5) % 6 == 0,
        "foreign_partner_dependency": ("none", "limited", "heavy", "none")[(h >> 8) % 4],
        "model_generations": (h >> 10) % 5,
        "planned_modalities": MODS[(h >> 13) % 5],
        "open_weights_released": bool(bit(16)),
        "commercial_use_allowed": bool(bit(17)),
        "commercial_deployment": bool(bit(18)),
    }
    for k, name in enumerate(facts):             # about 6 % of facts unknown
        if (h >> (19 + k)) % 16 == 0:
            facts[name] = "unknown"
    return {"id": f"a{i:07d}", "name": f"Applicant {i:07d}", "facts": facts}


def write_population(path: str, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(profile(i), separators=(",", ":")) + "\n")


# --- measurements, each run in its own process ---------------------------------------------

def plain_verdict(f: dict) -> str:
    """The shipped rules written by hand in plain Python, three-valued (None = unknown)."""
    def v(name):
        x = f.get(name)
        return None if x == "unknown" else x

    def and3(*xs):
        return False if False in xs else None if None in xs else True

    def or3(*xs):
        return True if True in xs else None if None in xs else False

    def not3(x):
        return None if x is None else not x

    mods = v("planned_modalities")
    gens = v("model_generations")
    dep = v("foreign_partner_dependency")
    gates = (and3(v("in_house_architecture"), v("pretrained_from_scratch"), not3(v("initialised_from_foreign_weights"))),
             None if dep is None else dep != "heavy")
    scored = ((30, None if mods is None else or3("image" in mods, "video" in mods, "audio" in mods)),
              (25, None if gens is None else gens >= 2),
              (25, v("open_weights_released")),
              (20, or3(v("commercial_use_allowed"), v("commercial_deployment"))))
    score = sum(p for p, ok in scored if ok is True)
    best = score + sum(p for p, ok in scored if ok is None)
    if False in gates or best < 50:
        return "excluded"
    if None not in gates and score >= 50:
        return "selected"
    return "undetermined"


def eligibility_verdicts(pop: str) -> list[str]:
    """Every applicant's verdict from eligibility (python engine), in input order."""
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from eligibility import api
    from eligibility.program import batch
    program = api.load_rules(RULES)
    res = batch.run_batch(program, [pop], batch.BatchOptions(engine="python"))
    return [e.verdict for e in sorted(res.decision.entries, key=lambda e: e.key)]


def mismatches(ours: list[str], theirs: list[str]) -> int:
    return sum(a != b for a, b in zip(ours, theirs)) + abs(len(ours) - len(theirs))


def measure_plain(pop: str) -> dict:
    profiles = [json.loads(line)["facts"] for line in open(pop, encoding="utf-8")]
    t = timing_starts()
    verdicts = [plain_verdict(f) for f in profiles]
    dt = time.perf_counter() - t
    return {"seconds": dt, "n": len(profiles), "mismatches": mismatches(eligibility_verdicts(pop), verdicts)}


def measure_peer(pop: str, name: str) -> dict:
    """A peer engine on the same population, checked against eligibility on every applicant."""
    import peers
    contexts = [peers.context(json.loads(line)["facts"]) for line in open(pop, encoding="utf-8")]
    try:
        seconds, verdicts = peers.PEERS[name](contexts)
    except ImportError as exc:
        return {"missing": f"{exc.name} is not installed (pip install -e '.[bench]')"}
    return {"seconds": seconds, "n": len(contexts), "mismatches": mismatches(eligibility_verdicts(pop), verdicts)}


def measure_python_step(pop: str, kind: str) -> dict:
    """The evaluation step on pre-parsed profiles: --engine python's node outcomes only, or the full
    evaluation with --engine python or durable (durable-evaluate)."""
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from eligibility import api
    from eligibility.program import inputs
    program = api.load_rules(RULES)
    applicants = [inputs.parse_item(item, program) for item in inputs.iter_items([pop])]
    evaluator = api.Evaluator(program, "durable" if kind == "durable-evaluate" else "python")
    if kind == "py-nodes":
        from eligibility.engine.python import CompiledNodes
        nodes = CompiledNodes(program).evaluate
        values = [a.values() for a in applicants]
        t = timing_starts()
        for v in values:
            nodes(v)
    elif kind == "py-evaluate-pure":
        evaluate = evaluator.evaluate
        t = timing_starts()
        for a in applicants:
            evaluate(a, trace=False)
    else:
        from eligibility.evaluate.memo import Memo
        from eligibility.program.batch import GROUP
        groups = [applicants[i:i + GROUP] for i in range(0, len(applicants), GROUP)]
        memo = Memo.for_criteria(len(program.criteria))
        evaluate_all = evaluator.evaluate_all
        t = timing_starts()
        for group in groups:
            evaluate_all(group, None, False, memo)
    return {"seconds": time.perf_counter() - t, "n": len(applicants)}


def encoded_population(pop: str, compiled, program) -> list:
    from eligibility.language.profile import convert_value
    encoded = []
    for line in open(pop, encoding="utf-8"):
        facts = json.loads(line)["facts"]
        values = {k: convert_value(x, program.facts[k]) for k, x in facts.items() if x != "unknown"}
        encoded.append(compiled.encode(values))
    return encoded


def drive(e, h, encoded: list, derive: dict) -> tuple[float, int, int]:
    """Seconds, firings and minor page faults of running every pre-encoded profile through the C
    engine: assert its facts, run every action (asserting the rule's derived fact, if `derive`
    has one), delete the state; no trace, no decoding."""
    sentinel, firings = '{"t":"s"}', 0
    t = timing_starts()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for docs in encoded:
        for doc in docs:
            _, state = e.assert_fact(h, doc)
        started = e.start_action_for_state(h, state)
        if started is None:
            e.assert_fact(h, sentinel)
            started = e.start_action_for_state(h, state)
        msg = started[1]
        while msg is not None:
            firings += 1
            fact = derive.get(msg[2:msg.index('"', 2)])
            if fact is not None:
                e.assert_fact(h, fact)
            msg = e.complete_and_start_action(h, state)
        e.delete_state(h, "0")
    dt = time.perf_counter() - t
    return dt, firings, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def leaf_only(compiled, program) -> str:
    """The independent ceiling's ruleset: only the rules of the programme's leaves (every leaf test
    once, on the profile) and the sentinel; no rule for an `and`/`or` node, so nothing chains and
    nothing combines. Rule names start with the id of the node they settle (engine/compiler.py)."""
    from eligibility.language.model import LEAVES
    leaves = {str(n.id) for c in [*program.concepts.values(), *program.criteria]
              for n in c.condition.walk() if isinstance(n, LEAVES)}

    def of_leaf(name: str) -> bool:
        digits = name[:len(name) - len(name.lstrip("0123456789"))]
        return not digits or digits in leaves
    return json.dumps({name: rule for name, rule in compiled.rules.items() if of_leaf(name)}, ensure_ascii=False)


def measure_ceiling(pop: str, leaves_only: bool = False) -> dict:
    """The compiled ruleset (or, with `leaves_only`, the independent ceiling: its leaves' rules
    alone) driven directly through the C extension on pre-encoded profiles."""
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import durable_rules_engine as e
    from eligibility import api
    from eligibility.engine.compiler import compile_program
    program = api.load_rules(RULES)
    compiled = compile_program(program)
    encoded = encoded_population(pop, compiled, program)
    ruleset = leaf_only(compiled, program) if leaves_only else compiled.ruleset_json()
    h = e.create_ruleset("ceiling", ruleset)
    dt, _, _ = drive(e, h, encoded, {} if leaves_only else compiled.derive)
    return {"seconds": dt, "n": len(encoded)}


def measure_scale(pop: str) -> dict:
    """The sweep's rows in one process, for the programme in RULES: `leaf` (the independent
    ceiling: leaf-only rules, each applicant asserted once, nothing chained or decoded), `chain`
    (the compiled ruleset driven directly, as `ceiling`) and `engine` (eligibility's durable
    engine, DurableEngine.run_all on known fact values, no trace), with per-applicant firings and
    minor page faults."""
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import durable_rules_engine as e
    from eligibility import api
    from eligibility.engine.compiler import compile_program
    from eligibility.engine.durable import DurableEngine
    from eligibility.program import inputs
    program = api.load_rules(RULES)
    compiled = compile_program(program)
    encoded = encoded_population(pop, compiled, program)
    values = [inputs.parse_item(item, program).values() for item in inputs.iter_items([pop])]
    leaf_h = e.create_ruleset("leaf", leaf_only(compiled, program))
    chain_h = e.create_ruleset("chain", compiled.ruleset_json())
    engine = DurableEngine(compiled)
    drive(e, leaf_h, encoded[:50], {})          # warm-up: first state slot, caches
    drive(e, chain_h, encoded[:50], compiled.derive)
    engine.run_all(values[:50])
    out: dict = {"n": len(encoded), "rules": len(compiled.rules), "criteria": len(program.criteria)}
    for name, run in (("leaf", lambda: drive(e, leaf_h, encoded, {})),
                      ("chain", lambda: drive(e, chain_h, encoded, compiled.derive)),
                      ("engine", lambda: engine_run(engine, values))):
        dt, firings, faults = run()
        out[name] = {"seconds": dt, "firings": firings, "faults": faults}
    return out


def engine_run(engine, values: list) -> tuple[float, int, int]:
    t = timing_starts()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    results = engine.run_all(values)
    dt = time.perf_counter() - t
    bad = [r for r in results if not hasattr(r, "rules")]
    if bad:
        raise SystemExit(f"engine failures: {len(bad)}, first: {bad[0]}")
    return dt, sum(len(r.rules) for r in results), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def child_main(kind: str, pop: str) -> None:
    out = (measure_plain(pop) if kind == "plain" else measure_ceiling(pop) if kind == "ceiling"
           else measure_ceiling(pop, leaves_only=True) if kind == "leaf-ceiling"
           else measure_scale(pop) if kind == "scale"
           else measure_peer(pop, kind[5:]) if kind.startswith("peer:") else measure_python_step(pop, kind))
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(kind: str, pop: str, rules: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "src"), os.path.dirname(__file__)]),
               ELIGIBILITY_BENCH_RULES=rules or RULES)
    r = subprocess.run([sys.executable, __file__, "--child", kind, pop], capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"{kind} failed: {r.stderr}")
    return json.loads(r.stdout)


def eligibility_cmd() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "eligibility")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "eligibility"]


TREE_MB: dict[str, float] = {}   # {"last": peak RSS summed over the last CLI run's process tree, MB}


class TreeRss:
    """Samples the summed RSS of a process and its descendants (/proc) every 20 ms; `stop` gives the peak, MB."""

    def __init__(self, pid: int):
        import threading
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def tree(self, pid: int) -> list[int]:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as fh:
                kids = [int(k) for k in fh.read().split()]
        except OSError:
            return []
        return [pid] + [p for k in kids for p in self.tree(k)]

    def rss_kb(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/status") as fh:
                return next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            return 0

    def loop(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, sum(map(self.rss_kb, self.tree(self.pid))))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak / 1024


PYCACHE: dict[str, str] = {}      # {"dir": where the CLI runs keep their bytecode}, set by main


def run_cli(args: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS (MB, largest process of the run), exit status and CPU seconds of one CLI run.

    The CLI keeps its compiled bytecode between runs, as an installed package does (pip compiles
    it at install), in a directory of its own: where PYTHONDONTWRITEBYTECODE is set, every run of
    the source tree would otherwise compile eligibility's modules again (about 40 ms)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"), NO_COLOR="1")
    if PYCACHE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE["dir"]
    t = time.perf_counter()
    p = subprocess.Popen(eligibility_cmd() + args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    peak = TreeRss(p.pid)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    TREE_MB["last"] = peak.stop()
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode()
    p.stderr.close()
    if p.returncode not in (0, 1):
        raise SystemExit(f"eligibility {' '.join(args)} failed: {err}")
    return dt, usage.ru_maxrss / 1024, p.returncode, usage.ru_utime + usage.ru_stime


def measure_batch(pop: str, n: int, out: str, *extra: str) -> dict:
    dt, rss, _, cpu = run_cli(["batch", pop, "--rules", RULES, "--format", "jsonl", "-o", out, *extra])
    with open(out, "rb") as fh:
        lines = sum(1 for _ in fh)
    if lines != n + 1:
        raise SystemExit(f"incomplete output: {lines} lines for {n} applicants")
    os.unlink(out)
    return {"seconds": dt, "n": n, "rss_mb": rss, "cpu": cpu, "lines": lines, "tree_mb": TREE_MB.get("last", 0.0)}


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def each_run(base: list[dict], other: list[dict]) -> str:
    """The ratio of each pair of runs made in turn, when there were several."""
    if len(base) < 2:
        return ""
    return "; each run: " + ", ".join(f"{b['seconds'] / o['seconds']:.2f}" for b, o in zip(base, other))


def check_time() -> float:
    return min(run_cli(["check", "applicants/kt.yaml"])[0] for _ in range(5))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    ap.add_argument("--million", action="store_true", help="also 1,000,000 applicants through JSON Lines")
    ap.add_argument("--peers", action="store_true",
                    help="also zen-engine, json-logic-qubit and rule-engine (the bench extra), up to 100k")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of batch-j1, batch-j2 and the ceiling per size below 1M, made in turn; "
                         "the median is shown (default 3)")
    ap.add_argument("--rules", help="the rules file to measure (default: the shipped programme); the plain "
                                    "and peer rows, written for the shipped programme, are left out")
    ap.add_argument("--sweep", action="store_true",
                    help="only the rule-count sweep: --copies copies of the programme's concepts and criteria")
    ap.add_argument("--copies", type=int, nargs="*", default=[1, 5, 20, 50])
    ap.add_argument("--sweep-n", type=int, default=2000, help="applicants per sweep row (default 2000)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(*args.child)
        return
    global RULES
    RULES = os.path.abspath(args.rules) if args.rules else RULES
    if args.sweep:
        sweep(args.copies, args.sweep_n)
        return
    sizes = args.sizes + ([1_000_000] if args.million else [])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
          "applicants/s (peak RSS MB)")
    # populations and outputs in memory (tmpfs) when there is one: the disk's write-back of the
    # output file (about 1 KB per applicant, fsync'ed before the rename) is not the program's speed
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    print(f"files in {shm or tempfile.gettempdir()}; the CLI's bytecode is compiled once and kept there (see run_cli)")
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        PYCACHE["dir"] = os.path.join(tmp, "pycache")
        check_time() if RULES == SHIPPED else None   # compiles the CLI's bytecode once, before anything is timed
        for n in sizes:
            pop, out = os.path.join(tmp, f"pop{n}.jsonl"), os.path.join(tmp, "out.jsonl")
            write_population(pop, n)
            big = n >= 1_000_000
            # the rows the targets compare, measured `repeat` times in turn; the median run is shown
            runs: dict[str, list[dict]] = {"batch-j1": [], "batch-j2": [], "ceiling": []}
            for _ in range(1 if big else args.repeat):
                runs["batch-j1"].append(measure_batch(pop, n, out))
                runs["batch-j2"].append(measure_batch(pop, n, out, "--jobs", "2"))
                if not big:
                    runs["ceiling"].append(run_child("ceiling", pop))
            rows = {"batch-j1": median_run(runs["batch-j1"]), "batch-j2": median_run(runs["batch-j2"])}
            if not big:
                rows["engine-python"] = measure_batch(pop, n, out, "--engine", "python")
                rows["ceiling"] = median_run(runs["ceiling"])
                rows["leaf-ceiling"] = run_child("leaf-ceiling", pop)
                if RULES == SHIPPED:
                    rows["plain"] = run_child("plain", pop)
                rows["py-nodes"] = run_child("py-nodes", pop)
                rows["py-evaluate"] = run_child("py-evaluate", pop)
                rows["py-evaluate-pure"] = run_child("py-evaluate-pure", pop)
                rows["durable-evaluate"] = run_child("durable-evaluate", pop)
            if args.peers and not big and RULES == SHIPPED:
                import peers
                for name in peers.PEERS:
                    r = run_child(f"peer:{name}", pop)
                    if "missing" in r:
                        print(f"  {name}: {r['missing']}")
                    else:
                        rows[name] = r
            print(f"\nN = {n:,}")
            for name, r in rows.items():
                print(f"  {name:14s} {r['n'] / r['seconds']:>12,.0f}/s  {r['seconds']:8.2f} s  {r['rss_mb']:7.0f} MB"
                      + (f"  cpu {r['cpu']:6.2f} s  {r['lines']:,} lines  tree {r['tree_mb']:.0f} MB"
                         if "cpu" in r else "")
                      + (f"  mismatches {r['mismatches']}" if "mismatches" in r else ""))
            rate = {k: r["n"] / r["seconds"] for k, r in rows.items()}
            if len(runs["batch-j1"]) > 1:
                print(f"  (batch-j1, batch-j2 and ceiling: the median of {len(runs['batch-j1'])} runs each, in turn)")
            print(f"  jobs2/jobs1           {rate['batch-j2'] / rate['batch-j1']:.2f}  (target >= 1.8 at 100k and 1M)"
                  + each_run(runs["batch-j1"], runs["batch-j2"]))
            if big:
                print(f"  batch-j2 tree         {rows['batch-j2']['tree_mb']:.0f} MB  (peak RSS summed over the process "
                      "tree; target < 300 MB at 1M)")
            if not big:
                cpu_rate = rows["batch-j1"]["n"] / rows["batch-j1"]["cpu"]
                print(f"  batch-j1/ceiling      {rate['batch-j1'] / rate['ceiling']:.2f}  "
                      f"({cpu_rate / rate['ceiling']:.2f} by CPU seconds; the ceiling is this version's own compile)"
                      + each_run(runs["ceiling"], runs["batch-j1"]))
                print(f"  batch-j1/leaf-ceiling {rate['batch-j1'] / rate['leaf-ceiling']:.2f}  "
                      f"({cpu_rate / rate['leaf-ceiling']:.2f} by CPU seconds; target >= 0.5: the engine's minimum)")
                print(f"  ceiling/leaf-ceiling  {rate['ceiling'] / rate['leaf-ceiling']:.2f}  (the compiled ruleset "
                      "against its leaves' rules alone)")
                if "plain" not in rate:
                    continue
                print(f"  py-nodes/plain        {rate['py-nodes'] / rate['plain']:.2f}  (target >= 0.3: the evaluation step)")
                print(f"  py-evaluate/plain     {rate['py-evaluate'] / rate['plain']:.2f}  (with criteria, verdict, reason; "
                      "the batch's memo)")
                print(f"  py-evaluate-pure/plain {rate['py-evaluate-pure'] / rate['plain']:.2f}  (the same, no memo: "
                      "every applicant assessed anew)")
                print(f"  engine-python/plain   {rate['engine-python'] / rate['plain']:.2f}  (the whole CLI path)")
                print(f"  batch-j1/plain        {rate['batch-j1'] / rate['plain']:.2f}  ({cpu_rate / rate['plain']:.2f} by CPU "
                      "seconds; plain is hand-written Python, the same yardstick for every version)")
                for name in [k for k in rows if k.startswith(("zen", "json-logic", "rule-engine"))]:
                    print(f"  against {name:12s} batch-j1 {rate['batch-j1'] / rate[name]:.2f}, engine-python "
                          f"{rate['engine-python'] / rate[name]:.2f}, durable-evaluate {rate['durable-evaluate'] / rate[name]:.2f}, "
                          f"py-evaluate {rate['py-evaluate'] / rate[name]:.2f}")
        if RULES == SHIPPED:
            print(f"\ncheck one profile: {check_time():.3f} s wall (best of 5; target < 0.35)")


def sweep(factors: list[int], n: int) -> None:
    """The rule-count sweep: for each number of copies of the programme (benchmarks/programs.py),
    the `scale` rows in one process, per applicant."""
    import programs
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
          f"{n:,} applicants per row; µs and minor page faults per applicant")
    print("leaf = independent ceiling (the leaves' rules only, one assert, nothing combined, no decoding); chain = "
          "the compiled ruleset driven directly; engine = eligibility's DurableEngine.run_all")
    print(f"{'copies':>6} {'criteria':>8} {'rules':>6} {'firings':>7} | {'leaf':>7} {'chain':>7} {'engine':>7} "
          f"{'eng/leaf':>8} | {'faults':>6} | {'cost x':>6} {'crit x':>6}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        pop = os.path.join(tmp, "pop.jsonl")
        write_population(pop, n)
        for k in factors:
            rules = programs.write(os.path.join(tmp, f"x{k}.yaml"), k, source=RULES)
            row = run_child("scale", pop, rules)
            us = {name: 1e6 * row[name]["seconds"] / n for name in ("leaf", "chain", "engine")}
            base = base or (us["engine"], row["criteria"])
            print(f"{k:>6} {row['criteria']:>8} {row['rules']:>6} {row['engine']['firings'] / n:>7.1f} | "
                  f"{us['leaf']:>7.1f} {us['chain']:>7.1f} {us['engine']:>7.1f} {us['leaf'] / us['engine']:>8.2f} | "
                  f"{row['engine']['faults'] / n:>6.1f} | {us['engine'] / base[0]:>6.1f} {row['criteria'] / base[1]:>6.1f}")
    print("eng/leaf: the leaf-only ceiling's time over the engine's (1.0 = the engine's minimum); cost x: the "
          "engine's per-applicant time over the 1-copy row; crit x: criteria over the 1-copy row")


if __name__ == "__main__":
    main()
