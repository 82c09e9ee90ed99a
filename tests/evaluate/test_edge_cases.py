"""Edge cases found in review: exact decimal scores, non-finite numbers, unwritable outputs, CSV quirks."""
import json

import pytest

from eligibility.api import Evaluator
from eligibility.core.errors import InputError
from eligibility.language.model import Applicant, FactValue
from eligibility.language.rules import load_program

from helpers import RULES

DECIMAL_RULES = """
program: {id: dec, title: decimals, sources: [{id: s, title: s}]}
facts: {a: {type: bool}, b: {type: bool}}
parameters: {thr: {type: float, value: 0.8}}
criteria:
  - {id: a, kind: scored, points: 0.7, condition: a, source: {ref: s, clause: x}}
  - {id: b, kind: scored, points: 0.1, condition: b, source: {ref: s, clause: x}}
decision: {threshold: thr}
"""


def applicant(**facts):
    return Applicant(path="x", sha256="", id="x", name="X",
                     history={k: (FactValue(v, ()),) for k, v in facts.items()})


def test_points_that_add_up_to_the_threshold_reach_it():
    program = load_program("dec.yaml", text=DECIMAL_RULES)
    ev = Evaluator(program).evaluate(applicant(a=True, b=True))
    assert ev.score == 0.8 and ev.verdict == "selected", ev.reason
    assert Evaluator(program).evaluate(applicant(a=True, b=False)).verdict == "excluded"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_parameters_are_refused(value):
    with pytest.raises(InputError, match="not a valid float"):
        load_program("dec.yaml", {"thr": value}, text=DECIMAL_RULES)
    with pytest.raises(InputError, match="not a valid int"):
        load_program(RULES, {"quota": value})


def test_non_finite_numbers_in_the_rules_file_are_refused():
    with pytest.raises(InputError, match="thr"):
        load_program("dec.yaml", text=DECIMAL_RULES.replace("value: 0.8", "value: .nan"))
    with pytest.raises(InputError, match="finite number"):
        load_program("dec.yaml", text=DECIMAL_RULES.replace("points: 0.7", "points: .inf"))


def test_output_to_a_directory_or_unwritable_place_is_a_clean_error(run_cli, tmp_path):
    for cmd in (["check", "applicants/kt.yaml", "-f", "json"], ["batch", "-f", "csv"], ["report"]):
        r = run_cli(*cmd, "-o", str(tmp_path))
        assert r.returncode == 2 and "Traceback" not in r.stderr, (cmd, r.stderr)
        assert f"{tmp_path}: cannot write output: it is a directory" in r.stderr


def test_csv_with_byte_order_mark_and_repeated_columns(run_cli, tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffid,name,foreign_partner_dependency\nx1,X,heavy\n".encode("utf-8"))
    r = run_cli("batch", str(bom), "-f", "json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)["applicants"]
    assert rec["applicant"]["id"] == "x1" and rec["verdict"] == "excluded"
    twice = tmp_path / "twice.csv"
    twice.write_text("id,model_generations,model_generations\nx1,1,5\n", encoding="utf-8")
    r = run_cli("batch", str(twice), "-f", "json")
    assert r.returncode == 2
    assert f"{twice}:1:2: CSV header repeats column(s) 'model_generations'" in r.stderr


def test_jsonl_bad_lines_are_errors_of_their_own_and_the_rest_is_read(run_cli, tmp_path):
    pop = tmp_path / "pop.jsonl"
    deep = '{"id": "deep", "facts": {"model_generations": ' + "[" * 5000 + "]" * 5000 + "}}"
    pop.write_bytes("\n".join([
        deep,
        '{"id": "d", "id": "e", "facts": {}}',
        '{"id": "ok1", "facts": {"foreign_partner_dependency": "heavy"}}',
        ]).encode() + b"\n\xff\xfe not utf-8\n" + b'{"id": "ok2", "facts": {"foreign_partner_dependency": "heavy"}}\n')
    r = run_cli("batch", str(pop), "-f", "json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    out = json.loads(r.stdout)
    assert out["summary"]["inputs"] == 5 and out["summary"]["errors"] == 3
    assert [a["applicant"]["id"] for a in out["applicants"]] == ["ok1", "ok2"]
    messages = {e["line"]: e["message"] for e in out["errors"]}
    assert "nested too deeply" in messages[1] and "duplicate key 'id'" in messages[2]
    assert "not valid UTF-8" in messages[4]


def test_an_engine_failure_on_one_applicant_does_not_stop_the_batch(monkeypatch, tmp_path):
    from eligibility.program import batch
    from eligibility.engine.durable import DurableEngine
    from eligibility.core.errors import EngineError
    pop = tmp_path / "pop.jsonl"
    pop.write_text("".join(json.dumps({"id": f"a{i}", "facts": {"model_generations": i}}) + "\n" for i in range(5)))
    real = DurableEngine.run_all

    def flaky(self, values, trace=False):
        return [EngineError("firing budget of 1 exceeded") if v.get("model_generations") == 3
                else result for v, result in zip(values, real(self, values, trace))]

    monkeypatch.setattr(DurableEngine, "run_all", flaky)
    result = batch.run_batch(load_program(RULES), [str(pop)])
    assert result.summary["inputs"] == 5 and result.summary["errors"] == 1
    (err,) = result.errors
    assert err["line"] == 4 and "engine failure: firing budget" in err["message"]


def test_fifo_and_directory_given_as_files_are_refused(run_cli, tmp_path):
    import os
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    r = run_cli("check", str(fifo))
    assert r.returncode == 2 and f"{fifo}: not a regular file" in r.stderr
    r = run_cli("check", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in r.stderr


def test_fail_on_typo_is_an_error_and_debug_works_after_the_command(run_cli):
    r = run_cli("check", "applicants/kt.yaml", "--fail-on", "exluded")
    assert r.returncode == 2 and "unknown verdict(s) 'exluded'" in r.stderr
    r = run_cli("check", "applicants/nope.yaml", "--debug")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_output_format_follows_the_output_extension(run_cli, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "-o", str(out)).returncode == 0
    lines = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(lines) == 8 and lines[0]["schema"] == "eligibility.evaluation/1"
    md = tmp_path / "kt.md"
    assert run_cli("check", "applicants/kt.yaml", "-o", str(md)).returncode == 0
    assert md.read_text().startswith("# KT: **excluded**")


def test_markup_and_huge_text_in_inputs_are_shown_as_text(run_cli, tmp_path):
    profile = tmp_path / "odd.yaml"
    name = "[/bold] [red]Odd[/red] " + "x" * 1_000_000
    profile.write_text(json.dumps({"id": "odd", "name": name, "facts": {
        "foreign_partner_dependency": {"value": "heavy", "evidence": {
            "source": {"title": "[/]", "publisher": "p", "date": "2025-08-01"}, "kind": "press", "note": "[bold"}}}}))
    r = run_cli("batch", str(profile))
    assert r.returncode == 0, r.stderr
    assert "[/bold]" in r.stdout and "[red]Odd[/red]" in r.stdout and "…" in r.stdout and len(r.stdout) < 20_000
    r = run_cli("check", str(profile))
    assert r.returncode == 0, r.stderr
    assert "[bold" in r.stdout
