"""The command line a practitioner expects: version, completion, help, formats, stdin, exit codes."""
import csv
import io
import json
import re
import subprocess

from helpers import ROOT, console_script


def test_version_and_completion(run_cli):
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("eligibility ") and r.stdout.strip()[-1].isdigit()
    assert "--install-completion" in run_cli("--help").stdout


def test_help_shows_flags_as_flags_and_lists_choices(run_cli):
    def flags_shown_with_a_value(command):
        out = run_cli(command, "--help", env={"COLUMNS": "200"}).stdout
        return out, [l for l in out.splitlines() if re.search(r"│ --[a-z-]+( +-[a-z])? +\S", l) and "--" in l
                     and re.search(r"--(flip|fail-on-flip|strict|coverage|trace|debug|version|help)\b", l)
                     and re.search(r"(-h|--[a-z-]+) +(<|[A-Z]{2,}|\[)", l)]
    out, odd = flags_shown_with_a_value("batch")
    assert odd == [] and "[text|json|jsonl|csv|markdown]" in out and "[durable|python|both]" in out
    for command in ("check", "diff", "validate", "test"):
        out, odd = flags_shown_with_a_value(command)
        assert odd == [], odd
    assert "[text|json]" in run_cli("test", "--help", env={"COLUMNS": "200"}).stdout


def _commands():
    import typer
    from eligibility.cli import app
    return sorted(typer.main.get_command(app).commands)


def _description(help_text):
    """The paragraphs between the usage line and the first panel, each a list of its lines."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
    paragraphs, current = [], []
    for line in lines[start:end] + [""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    return paragraphs


def test_help_of_every_command_reads_cleanly_at_80_columns(run_cli):
    width = 80 - 2                           # the description is drawn with one space each side
    for command in ["", *_commands()]:
        r = run_cli(*([command] if command else []), "--help", env={"COLUMNS": "80"})
        assert r.returncode == 0, (command, r.stderr)
        assert not re.search(r"<[a-z]", r.stdout) and "{" not in r.stdout, (command, r.stdout)
        assert max(map(len, r.stdout.splitlines())) <= 80
        usage = next(line for line in r.stdout.splitlines() if "Usage:" in line)
        assert usage.split() == [w for w in usage.split() if w == w.upper() or w.startswith("eligibility")
                                 or w in ("Usage:", command)], usage
        for paragraph in _description(r.stdout):
            for line, following in zip(paragraph, paragraph[1:]):
                # a line ends early only when the next word would not have fitted on it
                assert len(line) + 1 + len(following.split()[0]) > width, (command, line, following)


def test_usage_errors_are_one_line_with_a_hint(run_cli):
    r = run_cli("check", "applicants/kt.yaml", "--bogus")
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["eligibility: error: No such option: --bogus (see 'eligibility check --help')"]
    assert run_cli("check", "applicants/kt.yaml", "-f", "xml").returncode == 2


def test_one_format_vocabulary(run_cli):
    assert run_cli("batch", "-f", "text").stdout == run_cli("batch", "-f", "table").stdout != ""
    rows = list(csv.DictReader(io.StringIO(run_cli("check", "applicants/kt.yaml", "-f", "csv").stdout)))
    assert [r["criterion"] for r in rows][:2] == ["autonomy", "foreign_independence"]
    assert {r["basis"] for r in rows} == {"reported"} and rows[1]["criterion_basis"] == "reported"
    diff = list(csv.DictReader(io.StringIO(run_cli("diff", "--as-of", "2025-08-04", "--vs-as-of", "2026-01-15",
                                                   "-f", "csv").stdout)))
    assert {d["id"]: d["status"] for d in diff}["naver-cloud"] == "flipped"


def test_check_reads_a_profile_from_stdin(run_cli):
    with open(f"{ROOT}/applicants/kt.yaml", encoding="utf-8") as fh:
        r = run_cli("check", "-", "-f", "json", input=fh.read())
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["applicant"]["id"] == "kt" and rec["applicant"]["path"] == "<stdin>" and rec["verdict"] == "excluded"


def test_markdown_check_has_the_trace_and_the_sources(run_cli):
    md = run_cli("check", "applicants/kt.yaml", "-f", "markdown").stdout
    assert "## Trace" in md and "## Evidence and sources" in md
    assert "source [newdaily-analysis]" in md and "published 2025-08-05" in md


def test_a_closed_pipe_ends_quietly(tmp_path):
    big = tmp_path / "many.jsonl"
    line = json.dumps({"id": "a{}", "name": "A", "foreign_partner_dependency": "heavy"})
    big.write_text("".join(line.replace("{}", str(i)) + "\n" for i in range(20000)))
    p = subprocess.Popen([console_script(), "batch", str(big), "-f", "csv"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=120) == 141 and err == b""


def test_progress_total_is_known_for_files():
    from eligibility.cli.batch import expected_inputs
    assert expected_inputs(["applicants"]) == 7
    assert expected_inputs(["-"]) is None


def test_api_evaluates_a_dict_profile():
    from eligibility import api
    ev = api.evaluate_profile({"id": "demo", "name": "Demo", "facts": {"foreign_partner_dependency": "heavy"}},
                              rules="rules/sovereign-ai-2025.yaml")
    assert ev.verdict == "excluded" and "foreign_independence" in ev.reason
    assert api.record(ev)["basis"] == "reported"
    assert "evaluate_profile" in api.__all__ and all(hasattr(api, name) for name in api.__all__)
