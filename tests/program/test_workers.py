"""Units of work and worker processes: JSON Lines split into blocks gives exactly the inputs a
line-by-line reading gives; several workers give the same results as one, from files, stdin
and CSV; a worker that dies or fails ends the batch with a clear error, never a hang."""
import dataclasses
import io
import json
import os
import signal

import pytest

from helpers import APPLICANTS, RULES
from eligibility import api
from eligibility.program import batch, inputs
from eligibility.core.errors import EngineError, EnginesDisagree, InputError
from helpers import FACTS, synthetic


def awkward_jsonl() -> bytes:
    lines = [json.dumps(synthetic(i)).encode() for i in range(40)]
    lines[3] = b"   \t "                                   # blank: no input
    lines[5] = "\u00a0".encode()                           # not blank (no-break space): an invalid input
    lines[8] = lines[8] + b"\r"                            # CRLF
    lines[11] = b'{"id": "bad-utf8", "name": "\xff"}'      # not UTF-8
    lines[17] = json.dumps({**synthetic(17), "notes": "x" * 5000}).encode()   # longer than a block
    lines[20] = b""
    return b"\xef\xbb\xbf" + b"\n".join(lines)             # a BOM, and no newline at the end


def reference_items(path: str, data: bytes) -> list[tuple]:
    """Inputs as a plain line-by-line reading sees them: (key, line, text or error message)."""
    out = []
    for n, raw in enumerate(data[3:].split(b"\n"), start=1):
        if raw.strip():
            try:
                payload = raw.decode("utf-8")
            except UnicodeDecodeError:
                payload = "not valid UTF-8"
            out.append((len(out), n, payload))
    return out


def seen(items) -> list[tuple]:
    return [(i.key, i.line, str(i.payload.problems[0].message).split(" (")[0]
             if isinstance(i.payload, InputError) else i.payload) for i in items]


@pytest.mark.parametrize("block_bytes", [7, 64, 1000, 1 << 18])
def test_blocks_give_the_inputs_of_a_line_by_line_reading(tmp_path, monkeypatch, block_bytes):
    monkeypatch.setattr(inputs, "BLOCK_BYTES", block_bytes)
    data = awkward_jsonl()
    path = tmp_path / "pop.jsonl"
    path.write_bytes(data)
    expected = reference_items(str(path), data)
    units = list(inputs.iter_units([str(path)]))
    assert seen(i for u in units for i in inputs.unit_items(u)) == expected
    # the same once sent without their bytes and read again from the file
    assert seen(i for u in units for i in inputs.unit_items(u.light())) == expected
    # and from stdin, where blocks carry their bytes
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    via_stdin = list(inputs.iter_units(["-"], stdin=stdin))
    assert all(u.light() is u for u in via_stdin)
    assert [(k, n, p) for k, n, p in seen(i for u in via_stdin for i in inputs.unit_items(u))] == expected
    if block_bytes < 100:
        assert len(units) > 10


def test_a_block_whose_file_changed_is_an_error(tmp_path):
    path = tmp_path / "pop.jsonl"
    path.write_text("".join(json.dumps(synthetic(i)) + "\n" for i in range(5)))
    (unit,) = inputs.iter_units([str(path)])
    path.write_text(path.read_text().replace("Applicant", "applicant"))
    with pytest.raises(InputError, match="changed while the batch was reading it"):
        list(unit.light().items())


def write_inputs(tmp_path, n=3000):
    jl = tmp_path / "pop.jsonl"
    jl.write_text("".join(json.dumps(synthetic(i)) + "\n" for i in range(n)))
    rows = ["id,name," + ",".join(FACTS)]
    for i in range(n, n + 700):
        f = synthetic(i)["facts"]
        cells = [";".join(v) if isinstance(v, list) else str(v).lower() for v in (f[k] for k in FACTS)]
        rows.append(f"c{i},C {i}," + ",".join(cells))
    table = tmp_path / "pop.csv"
    table.write_text("\n".join(rows) + "\n")
    return jl, table


def entries(result):
    return [dataclasses.asdict(e) for e in result.decision.entries]


def test_two_workers_match_one_on_files_csv_yaml_and_stdin(tmp_path):
    program = api.load_rules(RULES, params={"quota": 50})
    jl, table = write_inputs(tmp_path)
    one = batch.run_batch(program, [str(jl), str(table), APPLICANTS], batch.BatchOptions(jobs=1))
    two = batch.run_batch(program, [str(jl), str(table), APPLICANTS], batch.BatchOptions(jobs=2))
    three = batch.run_batch(program, [str(jl), str(table), APPLICANTS], batch.BatchOptions(jobs=3))
    assert entries(one) == entries(two) == entries(three)
    assert one.summary["inputs"] == 3707 and one.summary["errors"] == 0
    stdin = io.TextIOWrapper(io.BytesIO(jl.read_bytes()), encoding="utf-8")
    piped = batch.run_batch(program, ["-"], batch.BatchOptions(jobs=2), stdin=stdin)
    alone = batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=1))
    assert [e["verdict"] for e in entries(piped)] == [e["verdict"] for e in entries(alone)]
    assert [e["path"].split(":")[-1] for e in entries(piped)] == [e["path"].split(":")[-1] for e in entries(alone)]


def test_a_worker_that_dies_ends_the_batch_with_an_error(tmp_path, monkeypatch):
    program = api.load_rules(RULES)
    jl, _ = write_inputs(tmp_path)
    real, main = batch.Worker.process, os.getpid()

    def dies(self, unit):       # in a worker process (the main process evaluates units too)
        if isinstance(unit, inputs.Block) and unit.key > 1000 and os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)         # as a crash in the engine's C code would
        return real(self, unit)

    monkeypatch.setattr(batch.Worker, "process", dies)
    signal.alarm(60)                                     # a hang fails the test instead of the suite
    try:
        with pytest.raises(EngineError, match=r"a worker process stopped \(exit code -9\)"):
            batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=2))
    finally:
        signal.alarm(0)


def test_an_audit_failure_in_a_worker_stops_the_batch_with_its_own_error(tmp_path, monkeypatch):
    program = api.load_rules(RULES)
    jl, _ = write_inputs(tmp_path, n=2000)
    real, main = api.Evaluator._compare, os.getpid()

    def disagree(self, values, outcomes):   # only in the worker process: its error must reach the batch
        if values.get("model_generations") == 3 and os.getpid() != main:
            raise EnginesDisagree("engines disagree on node(s) [1]")
        return real(self, values, outcomes)

    monkeypatch.setattr(api.Evaluator, "_compare", disagree)
    with pytest.raises(EnginesDisagree, match=r"node\(s\) \[1\]"):
        batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=2, engine="both"))


def test_a_worker_that_fails_after_a_good_unit_gives_its_error_not_a_broken_pipe(tmp_path, monkeypatch):
    """Each worker process answers its first unit, fails on the next and stops, while the main
    process is busy (a slow sink): it then sends work to a stopped worker. The batch must report
    the worker's own error. (`--jobs 3`: two worker processes; the main process never fails.)"""
    import time
    program = api.load_rules(RULES)
    jl, _ = write_inputs(tmp_path, n=3000)
    monkeypatch.setattr(inputs, "BLOCK_BYTES", 2048)          # many small units
    real, seen, main = batch.Worker.process, [], os.getpid()

    def second_fails(self, unit):
        if os.getpid() == main:
            return real(self, unit)
        seen.append(unit)                                     # per process (workers are forked)
        if len(seen) > 1:
            raise EngineError("the engine refused this unit")
        return real(self, unit)

    class SlowSink(batch.Sink):
        wants_entries = False

        def add_pieces(self, pieces):
            time.sleep(0.3)

        def finish(self, result):
            pass

    monkeypatch.setattr(batch.Worker, "process", second_fails)
    for _ in range(3):
        with pytest.raises(EngineError, match="the engine refused this unit"):
            batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=3, keep_all=False), SlowSink())


def test_a_slow_unit_holds_the_others_back_within_the_window(tmp_path, monkeypatch):
    """With the narrowest window (2 units for 2 jobs), a slow first unit makes the other jobs
    wait instead of racing ahead; the results are still complete and in order."""
    import time
    from eligibility.program import workers
    program = api.load_rules(RULES)
    jl, _ = write_inputs(tmp_path, n=1500)
    log = tmp_path / "units.log"
    monkeypatch.setattr(inputs, "BLOCK_BYTES", 8192)
    monkeypatch.setattr(workers, "WINDOW", 1)
    real = batch.Worker.process

    def logged(self, unit):
        start = time.monotonic()
        if isinstance(unit, inputs.Block) and unit.key == 0:
            time.sleep(0.5)
        out = real(self, unit)
        with open(log, "a") as fh:                       # one short append per unit: atomic
            fh.write(f"{unit.key} {start} {time.monotonic()}\n")
        return out

    monkeypatch.setattr(batch.Worker, "process", logged)
    one = batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=1))
    log.unlink()
    two = batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=2))
    assert entries(one) == entries(two) and two.summary["inputs"] == 1500
    units = sorted((int(k), float(a), float(b)) for k, a, b in (line.split() for line in log.read_text().splitlines()))
    first_end = units[0][2]
    assert len(units) > 10
    # the window is 2 units (WINDOW 1 for each of the 2 jobs): none past it starts while unit 0 runs
    assert 1 <= sum(start < first_end for _, start, _ in units) <= 2


@pytest.mark.parametrize("to_stdout", [False, True])
def test_jsonl_output_is_the_same_bytes_with_one_and_two_jobs(tmp_path, run_cli, to_stdout):
    """With two jobs the records arrive from the workers as one text per unit of work: the output
    must be byte for byte that of one job, also with names outside ASCII, a bad line and a
    duplicate id (whose record is replaced by an error line). To a file, the workers write their
    records into it themselves (program/heldpieces.py); to stdout the parent writes them."""
    lines = []
    for i in range(400):
        p = synthetic(i)
        p["name"] = f"Équipe {i} — 팀"
        lines.append(json.dumps(p, ensure_ascii=False))
    lines[5], lines[300] = "{not json", lines[17]
    pop = tmp_path / "pop.jsonl"
    pop.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        r = run_cli("batch", str(pop), "--rules", RULES, "--format", "jsonl", "-o", "-" if to_stdout else str(out),
                    "--jobs", jobs)
        assert r.returncode == 2, r.stderr
        outs.append(r.stdout.encode("utf-8") if to_stdout else out.read_bytes())
    import re
    # each record names the command that made it (--jobs, the output path): the rest must be equal
    same = [re.sub(rb',"command":\[[^\]]*\]', b"", out) for out in outs]
    assert same[0] == same[1] and same[0] != outs[0]
    records = [json.loads(x) for x in outs[0].decode("utf-8").splitlines()]
    assert len(records) == 401 and records[5]["verdict"] == "error" and records[300]["verdict"] == "error"
    assert "duplicate applicant id" in records[300]["message"] and records[40]["applicant"]["name"] == "Équipe 40 — 팀"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_output_file_that_cannot_grow_is_one_error_line_and_no_file(tmp_path, jobs):
    """The file size limit (RLIMIT_FSIZE) stops the writes past 100 KB, whichever process makes
    them (with two jobs, the workers' and the parent's): one line, and no file."""
    import resource
    import subprocess
    from helpers import console_script

    lines = [json.dumps(synthetic(i)) for i in range(300)]          # about 4.5 KB of output each
    pop = tmp_path / "pop.jsonl"
    pop.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "decision.jsonl"
    out.parent.mkdir()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    result = subprocess.run([console_script(), "batch", str(pop), "--rules", RULES, "-f", "jsonl", "-o", str(out),
                             "--jobs", jobs], capture_output=True, text=True, preexec_fn=limit, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"eligibility: error: {out}: cannot write output: File too large"]
    assert list(out.parent.iterdir()) == []


class _NoteTaker:
    """A worker whose units are numbers and whose note "fail" raises."""

    def process(self, unit):
        return _Noted(unit)

    def note(self, payload):
        if payload == "fail":
            raise EngineError("the note could not be handled")
        if payload == "die":                 # killed before it has done what the note asked
            os.kill(os.getpid(), signal.SIGKILL)

    def close(self):
        pass


class _Noted:
    def __init__(self, unit):
        self.unit, self.send = unit, None

    def bind_notes(self, send):
        self.send = send


def test_an_error_from_a_workers_last_note_ends_the_run_with_that_error():
    """Notes are answered by nothing, so the error of the very last one is read when the
    workers stop: it must still end the run."""
    from eligibility.program.workers import run_units
    got = []
    with pytest.raises(EngineError, match="the note could not be handled"):
        for result in run_units(iter(range(6)), 2, _NoteTaker):
            got.append(result.unit)
            result.send("fail" if result.unit == 5 else "fine")
    assert got == list(range(6))


def test_a_worker_killed_while_handling_its_last_note_ends_the_run_with_an_error():
    """It answers nothing and sends no error: its exit code is what says the work is not done."""
    from eligibility.program.workers import run_units
    with pytest.raises(EngineError, match=r"a worker process stopped \(exit code -9\)"):
        for result in run_units(iter(range(6)), 2, _NoteTaker):
            result.send("die" if result.unit == 5 else "fine")


def test_a_worker_that_cannot_write_its_records_fails_the_batch_with_one_output_error(tmp_path):
    """The workers are given a descriptor they cannot write (the parent's own file is fine): the
    error can only come from a worker's write, and it reaches the parent whole."""
    from eligibility.core.errors import OutputError
    from eligibility.render.batch_jsonl import JsonlSink
    from eligibility.render.output import atomic_writer
    lines = [json.dumps(synthetic(i)) for i in range(300)]
    pop, out = tmp_path / "pop.jsonl", tmp_path / "out.jsonl"
    pop.write_text("\n".join(lines) + "\n")
    with open(pop, "rb") as read_only:
        with pytest.raises(OutputError, match=r"^elsewhere.jsonl: cannot write output: Bad file descriptor$"):
            with atomic_writer(str(out)) as fh:
                sink = JsonlSink(fh)
                assert sink.output_file is not None and sink.output_file[1] == str(out)
                sink.output_file = (read_only.fileno(), "elsewhere.jsonl")
                batch.run_batch(api.load_rules(RULES), [str(pop)], batch.BatchOptions(jobs=2, keep_all=False), sink)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["pop.jsonl"]


def test_held_pieces_that_cannot_be_written_are_an_output_error(tmp_path):
    from eligibility.core.errors import OutputError
    from eligibility.program.heldpieces import PieceWriter
    path = tmp_path / "out.jsonl"
    path.write_text("")
    with open(path, "rb") as read_only:
        writer = PieceWriter(read_only.fileno(), "out.jsonl")
        held = writer.hold(["é\n", "b\n"])
        assert len(held) == 2 and held.offsets == [0, 3, 5]
        with pytest.raises(OutputError, match="^out.jsonl: cannot write output: Bad file descriptor$"):
            writer.write((held.unit, [(0, 0, 5)]))


class _Slow:
    """A worker that takes its time over each unit and says which process made it."""

    def process(self, unit):
        import time
        time.sleep(0.01)
        return (unit, os.getpid())

    def close(self):
        pass


def test_with_here_this_process_is_one_of_the_jobs_and_the_order_holds():
    """`here`: one worker process fewer, and this process takes units whenever no result is
    waiting; the results still come in unit order, made by both."""
    import multiprocessing
    from eligibility.program.workers import run_units
    before = len(multiprocessing.active_children())
    made = []
    for unit, pid in run_units(iter(range(200)), 2, _Slow, here=True):
        made.append((unit, pid))
        assert len(multiprocessing.active_children()) <= before + 1
    assert [u for u, _ in made] == list(range(200))
    by = {pid for _, pid in made}
    assert os.getpid() in by and len(by) == 2
