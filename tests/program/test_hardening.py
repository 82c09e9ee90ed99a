"""Issue 18: escapes, surrogates, sizes, output targets, signals and I/O errors, through the CLI.

Each test names the budget or guarantee of SECURITY.md that it backs."""
import glob
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from helpers import APPLICANTS, RULES, ROOT, console_script

GOOD = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
ESCAPES = [("\\e[31mRED", 0x1B), ("a\\0b", 0), ("\\u001b]0;title\\u0007", 0x1B), ("x\\u009by", 0x9B),
           ("\\x1b[2J", 0x1B), ("\\u202eevil", 0x202E)]


def _no_escape_out(result) -> None:
    for ch in ("\x1b", "\x00", "\x9b", "\x07"):
        assert ch not in result.stdout and ch not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("escape,code", ESCAPES)
def test_escaped_control_characters_in_yaml_are_refused_with_position(run_cli, tmp_path, escape, code):
    p = tmp_path / "p.yaml"
    p.write_text(f'id: x\nname: "{escape}"\nfacts: {{}}\n')
    result = run_cli("check", str(p), "--rules", RULES)
    assert result.returncode == 2
    assert result.stderr.strip() == f"eligibility: error: {p}:2:7: control character U+{code:04X} in text is not allowed"
    _no_escape_out(result)


@pytest.mark.parametrize("escape", ["\\u001b[31m", "\\ud800", "\\u009b", "\\u202e"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "table", "markdown", "json"])
def test_escapes_and_surrogates_in_json_lines_are_one_error_each(run_cli, tmp_path, escape, fmt):
    lines = [json.dumps({"id": "ok1", "name": "Ok", "facts": {}}),
             '{"id": "bad", "name": "N' + escape + '", "facts": {}}',
             '{"id": "bad2", "name": "N", "notes": "' + escape + '", "facts": {}}',
             json.dumps({"id": "ok2", "name": "Ok2", "facts": {}})]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    for jobs in ("1", "2"):
        result = run_cli("batch", str(src), *GOOD, "--rules", RULES, "-f", fmt, "--jobs", jobs)
        assert result.returncode == 2, result.stderr[-500:]
        _no_escape_out(result)
        errors = [line for line in result.stderr.splitlines() if line.startswith("eligibility: error:")]
        assert [e.split(":")[3] for e in errors] == ["2", "3"], errors
        if fmt == "jsonl":
            ids = [json.loads(line).get("applicant", {}).get("id") for line in result.stdout.splitlines()[:-1]]
            assert ids == ["ok1", None, None, "ok2"] + [os.path.basename(g)[:-5] for g in GOOD]


def test_raw_control_characters_in_json_lines_are_refused_with_position(run_cli, tmp_path):
    """DEL, a C1 control and a bidirectional override written as themselves (not as escapes) in a
    JSON line; a raw ESC is invalid JSON already."""
    lines = [json.dumps({"id": "ok1", "name": "Ok", "facts": {}}),
             '{"id": "del", "name": "N\x7fx", "facts": {}}',
             '{"id": "c1", "name": "N\x9bx", "facts": {}}',
             '{"id": "bidi", "name": "N\u202ex", "facts": {}}',
             '{"id": "esc", "name": "N\x1bx", "facts": {}}',
             json.dumps({"id": "ok2", "name": "Ok2", "facts": {}})]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for jobs in ("1", "2"):
        result = run_cli("batch", str(src), "--rules", RULES, "-f", "jsonl", "--jobs", jobs)
        assert result.returncode == 2
        _no_escape_out(result)
        errors = [line for line in result.stderr.splitlines() if line.startswith("eligibility: error:")]
        assert errors == [f"eligibility: error: {src}:2:25: control character U+007F is not allowed",
                          f"eligibility: error: {src}:3:24: control character U+009B is not allowed",
                          f"eligibility: error: {src}:4:26: control character U+202E is not allowed",
                          f"eligibility: error: {src}:5:25: invalid JSON: Invalid control character at"]
        ids = [json.loads(line).get("applicant", {}).get("id") for line in result.stdout.splitlines()[:-1]]
        assert ids == ["ok1", None, None, None, None, "ok2"]


def test_control_characters_in_csv_cells_are_refused(run_cli, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("id,name\nok1,Ok\nbad,Bad\x1b[31m\nok2,Ok2\n")
    result = run_cli("batch", str(src), "--rules", RULES, "-f", "csv")
    assert result.returncode == 2
    _no_escape_out(result)
    assert f"{src}:3:2: column 'name': control character U+001B is not allowed" in result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 4 and "ok1" in rows[1] and "ok2" in rows[3]


def test_what_if_values_with_control_characters_are_refused(run_cli):
    result = run_cli("check", GOOD[0], "--rules", RULES, "--set", "x=\x1b[31m")
    assert result.returncode == 2 and "--set" in result.stderr
    _no_escape_out(result)


def test_csv_output_with_a_cell_over_the_csv_module_field_limit(run_cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "long", "name": "N" * 200_000, "facts": {}}) + "\n"
                   + json.dumps({"id": "unk", "name": "U", "facts": {f"f{i}": 1 for i in range(3000)}}) + "\n")
    out = tmp_path / "o.csv"
    result = run_cli("batch", str(src), *GOOD, "--rules", RULES, "-o", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    import csv
    csv.field_size_limit(1 << 24)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert len(rows) == 1 + 2 + len(GOOD)
    assert rows[1][2] == "N" * 200_000


def test_budget_json_line_size(run_cli, tmp_path):
    from eligibility.program.inputs import MAX_LINE_BYTES
    src = tmp_path / "in.jsonl"
    with src.open("w") as fh:
        fh.write(json.dumps({"id": "a", "name": "A", "facts": {}}) + "\n")
        long = '{"id": "x", "name": "' + "n" * (10 * MAX_LINE_BYTES) + '", "facts": {}}'
        fh.write(long + "\n")
        fh.write(json.dumps({"id": "b", "name": "B", "facts": {}}) + "\n")
    result = run_cli("batch", str(src), "--rules", RULES, "-f", "jsonl")
    assert result.returncode == 2
    assert f"{src}:2:1: line is {len(long)} bytes, over the limit of {MAX_LINE_BYTES}" in result.stderr
    ids = [json.loads(line).get("applicant", {}).get("id") for line in result.stdout.splitlines()[:-1]]
    assert ids == ["a", None, "b"]


def test_budget_json_line_size_through_stdin_and_at_the_end(run_cli):
    from eligibility.program.inputs import MAX_LINE_BYTES
    data = json.dumps({"id": "a", "name": "A", "facts": {}}) + "\n" + "{" * (2 * MAX_LINE_BYTES)
    result = run_cli("batch", "-", "--rules", RULES, "-f", "jsonl", input=data)
    assert result.returncode == 2
    assert f"<stdin>:2:1: line is {2 * MAX_LINE_BYTES} bytes" in result.stderr


def test_budget_csv_columns_and_line(run_cli, tmp_path):
    from eligibility.program.inputs import MAX_CSV_COLUMNS, MAX_LINE_BYTES
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(10 * MAX_CSV_COLUMNS)) + "\n" + "1," * 5 + "\n")
    result = run_cli("batch", str(wide), "--rules", RULES, "-f", "csv")
    assert result.returncode == 2
    assert f"{wide}:1:1: CSV header has {10 * MAX_CSV_COLUMNS} columns, over the limit of {MAX_CSV_COLUMNS}" in result.stderr
    long = tmp_path / "long.csv"
    long.write_text("id,name\na,A\nb," + "x" * (10 * MAX_LINE_BYTES) + "\n")
    result = run_cli("batch", str(long), "--rules", RULES, "-f", "csv")
    assert result.returncode == 2 and f"{long}:3:1: line is over the limit" in result.stderr
    assert len(result.stdout.splitlines()) == 3          # header, a, and the error row


def test_budget_problems_per_input(run_cli, tmp_path):
    from eligibility.core.errors import MAX_PROBLEMS
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "u", "name": "U", "facts": {f"f{i}": 1 for i in range(50_000)}}) + "\n")
    result = run_cli("batch", str(src), "--rules", RULES, "-f", "jsonl")
    assert result.returncode == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("eligibility: error:")]
    assert line.count("unknown fact") == MAX_PROBLEMS
    assert line.endswith(f"... and {50_000 - MAX_PROBLEMS} more problem(s) not shown")


def test_budget_yaml_on_stdin(run_cli):
    result = run_cli("batch", "-", "--input-format", "yaml", "--rules", RULES, "-f", "jsonl",
                     input="id: x\nname: " + "n" * 80_000 + "\nfacts: {}\n", env={"ELIGIBILITY_MAX_INPUT_BYTES": "20000"})
    assert result.returncode == 2 and "<stdin>:1:1: input is over the limit of 20000 bytes" in result.stderr


# -- outputs ------------------------------------------------------------------------------------------

def test_output_to_a_fifo_writes_through_it(run_cli, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        result = run_cli("check", GOOD[0], "--rules", RULES, "-f", "json", "-o", str(fifo))
        out, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()          # when the FIFO was replaced, nothing ever writes to it
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(out)["applicant"]["path"].endswith(os.path.basename(GOOD[0]))
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_to_a_character_device_is_not_replaced(run_cli, tmp_path):
    # a node of our own (the null device's numbers): the test never risks the system's /dev/null
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs privileges")
    before = os.stat(node)
    result = run_cli("check", GOOD[0], "--rules", RULES, "-f", "json", "-o", str(node))
    assert result.returncode in (0, 1), result.stderr
    after = os.stat(node)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(run_cli, tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    result = run_cli("check", GOOD[0], "--rules", RULES, "-f", "json", "-o", str(link))
    assert result.returncode in (0, 1), result.stderr
    assert link.is_symlink() and json.loads(target.read_text())["schema"] == "eligibility.evaluation/1"


def test_output_to_a_socket_is_refused(run_cli, tmp_path):
    import socket
    path = str(tmp_path / "sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    try:
        result = run_cli("check", GOOD[0], "--rules", RULES, "-f", "json", "-o", path)
    finally:
        s.close()
    assert result.returncode == 2
    assert result.stderr.strip() == (f"eligibility: error: {path}: cannot write output: "
                                     "not a regular file, a character device or a pipe")


@pytest.mark.parametrize("args", [["check", GOOD[0], "-f", "json"], ["batch", *GOOD, "-f", "jsonl"]])
def test_disk_full_on_stdout_is_exit_2_with_one_line(args, tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run([console_script(), *args, "--rules", RULES], stdout=full, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "eligibility: error: <stdout>: cannot write output: No space left on device"


def test_broken_pipe_exits_141_quietly(tmp_path):
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{i}", "name": "A", "facts": {}}) + "\n" for i in range(5000)))
    proc = subprocess.Popen([console_script(), "batch", str(src), "--rules", RULES, "-f", "jsonl"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err == b""


# -- signals and workers --------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import bench
    path = str(tmp_path_factory.mktemp("pop") / "pop.jsonl")
    bench.write_population(path, 200_000)
    return path


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_signal_to_a_batch_with_workers_leaves_no_worker_and_no_temporary_file(tmp_path, population, sig):
    """`--jobs 3`: the main process and two worker processes."""
    out = tmp_path / "o.jsonl"
    proc = subprocess.Popen([console_script(), "batch", population, "--rules", RULES, "--jobs", "3", "-o", str(out)],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (len(_children(proc.pid)) == 2 and glob.glob(str(tmp_path / ".eligibility-*"))):
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) == 2 and proc.poll() is None
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig)
    time.sleep(5)
    assert not [w for w in workers if _alive(w)]
    if sig != signal.SIGKILL:          # SIGKILL cannot be caught: its temporary file stays (documented)
        assert os.listdir(tmp_path) == [] and "Traceback" not in err
        assert err.strip() == f"eligibility: terminated by signal {int(sig)}; no output written"


def test_terminal_safe_text():
    from eligibility.core.text import safe, safe_data
    assert safe("a\x1b[31mb\x00\x9b\ud800\u202e\tc\nd") == "a\\x1b[31mb\\x00\\x9b\\ud800\\u202e\tc\nd"
    assert safe("a\tb\nc", one_line=True) == "a\\x09b\\x0ac"
    data = {"k\x07": ["x\x1b", ("y",)], "n": 1}
    assert safe_data(data) == {"k\\x07": ["x\\x1b", ("y",)], "n": 1}
    clean = {"a": ["b"]}
    assert safe_data(clean) is clean


# -- smaller items (issue 18, item 9) -----------------------------------------------------------------

@pytest.mark.parametrize("text,why", [("010", "the number 8"), ("0x10", "the number 16"), ("1:30", "the number 90"),
                                      ("1_000", "the number 1000"), ("yes", "true"), ("on", "true"), ("off", "false")])
def test_yaml_1_1_surprises_are_refused(tmp_path, text, why):
    from eligibility.core.errors import InputError
    from eligibility.language.yamlsafe import load_yaml
    p = tmp_path / "p.yaml"
    p.write_text(f"id: x\nname: X\nnote: {text}\nquoted: '{text}'\nplain: [8, -3, 0, 1.5, true, False]\n")
    with pytest.raises(InputError) as info:
        load_yaml(str(p))
    (problem,) = info.value.problems          # the quoted one and the plain decimal ones are read
    assert str(problem).startswith(f"{p}:3:7: {text!r} is read as {why} by YAML 1.1")


def test_every_duplicate_key_is_reported(tmp_path):
    from eligibility.core.errors import InputError
    from eligibility.language.yamlsafe import load_yaml
    p = tmp_path / "p.yaml"
    p.write_text("a: 1\nb: {x: 1, x: 2}\na: 3\nc: 4\nc: 5\n")
    with pytest.raises(InputError) as info:
        load_yaml(str(p))
    assert [(x.line, x.col, x.message) for x in info.value.problems] == [
        (2, 11, "duplicate key 'x' (first at line 2)"), (3, 1, "duplicate key 'a' (first at line 1)"),
        (5, 1, "duplicate key 'c' (first at line 4)")]


def test_node_limit_message_speaks_of_aliases_only_when_there_are_some(tmp_path):
    from eligibility.core.errors import InputError
    from eligibility.language.yamlsafe import MAX_NODES, load_yaml
    p = tmp_path / "p.yaml"
    p.write_text("[" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n")
    with pytest.raises(InputError) as info:
        load_yaml(str(p))
    assert str(info.value).endswith(f"document too large (limit {MAX_NODES} nodes)")


def test_empty_id_is_refused(run_cli, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text('id: ""\nname: X\nfacts: {}\n')
    result = run_cli("check", str(p), "--rules", RULES)
    assert result.returncode == 2 and result.stderr.strip() == f"eligibility: error: {p}:1:5: profile: 'id' is empty"
    result = run_cli("batch", "-", "--rules", RULES, "-f", "jsonl", input='{"id": " ", "name": "X", "facts": {}}\n')
    assert result.returncode == 2 and "<stdin>:1:1: profile: 'id' is empty" in result.stderr


def test_whole_numbers_past_2_53_are_named_as_out_of_range(run_cli):
    big = 2 ** 53 + 1
    line = json.dumps({"id": "x", "name": "X", "facts": {"model_generations": big}})
    result = run_cli("batch", "-", "--rules", RULES, "-f", "jsonl", input=line + "\n")
    assert result.returncode == 2
    assert f"fact 'model_generations': {big} is outside the range of exact whole numbers" in result.stderr


# -- report ------------------------------------------------------------------------------------------------

def test_report_from_the_spool_is_the_page_from_records_in_memory():
    from eligibility import api
    from eligibility.cli.report import program_summary
    from eligibility.program.batch import BatchOptions, collect_records, run_batch
    from eligibility.records.record import RecordOptions
    from eligibility.render.html import render_report, stream_report
    from eligibility.render.report_spool import RecordSpool
    program = api.load_rules(RULES)
    result, records = collect_records(program, [APPLICANTS])
    expected = render_report(records, result.decision, program_summary(program), command="c", generated="g")
    with RecordSpool() as spool:
        result = run_batch(program, [APPLICANTS], BatchOptions(records=RecordOptions(trace=True)), spool)
        pieces = list(stream_report(spool, result.decision, program_summary(program), command="c", generated="g"))
        assert len(spool) == len(GOOD)
    assert len(pieces) > 100 and "".join(pieces) == expected


def test_report_names_at_most_a_hundred_applicants_per_evidence_source():
    from eligibility.render.html import CITED_SHOWN, EvidenceSources
    sources = EvidenceSources()
    for i in range(CITED_SHOWN + 30):
        for fact in ("a", "b"):
            assert sources.ref({"title": "T"}, f"applicant {i}", fact) == "E1"
    (item,) = sources.items
    assert len(item["cited_by"]) == CITED_SHOWN and item["more"] == 30


def test_budget_rules_file_from_git_is_checked_before_it_is_read(run_cli, tmp_path):
    import shutil
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    run = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True, env=dict(os.environ, **env))
    run("init", "-q")
    (tmp_path / "big.yaml").write_text("x: " + "y" * 100_000 + "\n")
    run("add", "big.yaml")
    run("commit", "-q", "-m", "big")
    # a git that logs its subcommands: the blob must never be shown (read into memory)
    bin_dir, log = tmp_path / "bin", tmp_path / "git.log"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {shutil.which("git")} "$@"\n')
    (bin_dir / "git").chmod(0o755)
    result = run_cli("check", GOOD[0], "--rules", "git:HEAD:big.yaml", cwd=str(tmp_path),
                     env={"ELIGIBILITY_MAX_INPUT_BYTES": "10000", "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert "show" not in log.read_text().split()
    assert result.returncode == 2
    assert result.stderr.strip() == ("eligibility: error: git:HEAD:big.yaml: file is 100004 bytes, over the limit "
                                     "of 10000 (set ELIGIBILITY_MAX_INPUT_BYTES to change it)")
