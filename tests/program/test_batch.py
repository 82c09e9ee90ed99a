"""`eligibility batch` and eligibility.batch: decision, quota, formats, inputs, errors, atomicity, jobs."""
import csv
import dataclasses
import io
import json
import os
import re

import pytest
from typer.testing import CliRunner

from helpers import APPLICANTS, FACTS, RULES, finals, synthetic, yaml_profile
from eligibility import api
from eligibility.program import batch, decision as dec
from eligibility.program.ranking import Ranking

SELECTED = {"naver-cloud", "upstage", "sk-telecom", "nc-ai", "lg-ai-research"}
EXCLUDED = {"kt", "kakao"}
# --- the shipped applicants, in every format ---------------------------------------------

def test_shipped_decision_api():
    program = api.load_rules(RULES)
    result = batch.run_batch(program, [APPLICANTS])
    got = finals(result.decision)
    assert {k for k, v in got.items() if v == "selected"} == SELECTED
    assert {k for k, v in got.items() if v == "excluded"} == EXCLUDED
    assert result.summary == {"inputs": 7, "evaluated": 7, "errors": 0, "selected": 5,
                              "eligible-not-selected": 0, "undetermined": 0, "excluded": 2}
    ranks = [e.id for e in result.decision.ordered() if e.rank]
    # score first, then criteria order, then name: NC AI and Upstage tie on every criterion
    assert ranks == ["sk-telecom", "naver-cloud", "nc-ai", "upstage", "lg-ai-research"]


def test_table(run_cli):
    r = run_cli("batch")
    assert r.returncode == 0, r.stderr
    assert "\x1b[" not in r.stdout
    rows = {m.group(2): m.group(1) for m in re.finditer(r"^\s+(\d)\s+(\S.*?) \(\S+\)\s{2,}selected", r.stdout, re.M)}
    assert rows == {"SK Telecom": "1", "Naver Cloud": "2", "NC AI": "3", "Upstage": "4", "LG AI Research": "5"}
    assert re.search(r"KT \(kt\)\s+excluded", r.stdout) and re.search(r"Kakao \(kakao\)\s+excluded", r.stdout)
    assert "7 inputs: 5 selected, 0 eligible-not-selected, 2 excluded, 0 undetermined, 0 error(s)" in r.stdout


def test_table_fits_80_columns_and_wraps_reasons_between_words(run_cli):
    r = run_cli("batch", env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = " ".join(line.strip() for line in lines).split()
    reason = "excluded: gate 'foreign_independence' not met, because foreign_partner_dependency is \"heavy\""
    assert " ".join(reason.split()) in " ".join(words)       # every word whole, in order, across lines
    kt = r.stdout[r.stdout.index("KT (kt)"):]
    assert "basis: reported (unofficial): rests on a press reading (gate" in " ".join(kt.split())
    assert "points: calibration, not published" in r.stdout


def test_csv_and_markdown_carry_the_basis(run_cli):
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(run_cli("batch", "-f", "csv").stdout))}
    for who in ("kt", "kakao"):
        assert rows[who]["basis"] == "reported" and rows[who]["unofficial"] == "yes"
        assert rows[who]["basis_note"].startswith("rests on a press reading (gate foreign_independence)")
        assert "points: calibration, not published" in rows[who]["basis_note"]
    md = run_cli("batch", "-f", "markdown").stdout
    assert "- Numbers: points: calibration, not published" in md
    assert re.search(r"\| KT \(`kt`\) \| \*\*excluded\*\* \| reported, \*unofficial\* \|", md)


def test_json(run_cli):
    r = run_cli("batch", "applicants", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "eligibility.batch/1"
    assert doc["decision"] == {"quota": 5, "threshold": 50, "tie_breaks": ["criteria_order", "name"]}
    assert doc["summary"]["selected"] == 5 and doc["summary"]["excluded"] == 2 and doc["errors"] == []
    by_id = {a["applicant"]["id"]: a for a in doc["applicants"]}
    assert {k for k, a in by_id.items() if a["final_verdict"] == "selected"} == SELECTED
    assert {k for k, a in by_id.items() if a["final_verdict"] == "excluded"} == EXCLUDED
    assert [a["applicant"]["id"] for a in doc["applicants"][:5]] == \
        ["sk-telecom", "naver-cloud", "nc-ai", "upstage", "lg-ai-research"]
    kt = by_id["kt"]
    assert kt["rank"] is None and kt["gates_failed"] == ["foreign_independence"] and kt["trace"]["firings"]
    # the same record as `check --format json`, but for the command line that replays it
    one = json.loads(run_cli("check", "applicants/kt.yaml", "--format", "json").stdout)
    assert one.pop("command") == ["eligibility", "check", "applicants/kt.yaml", "--format", "json"]
    assert kt.pop("command") == ["eligibility", "batch", "applicants", "--format", "json"]
    assert {k: v for k, v in kt.items() if k not in ("rank", "final_verdict", "final_reason")} == one


def test_jsonl(run_cli):
    r = run_cli("batch", "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 8
    recs, summary = lines[:-1], lines[-1]
    assert all(x["schema"] == "eligibility.evaluation/1" and "trace" not in x for x in recs)
    assert summary["schema"] == "eligibility.batch-summary/1"
    assert summary["summary"]["inputs"] == 7
    assert [x["id"] for x in summary["ranking"]] == ["sk-telecom", "naver-cloud", "nc-ai", "upstage", "lg-ai-research"]
    assert {x["final_verdict"] for x in summary["ranking"]} == {"selected"}
    assert {x["applicant"]["id"] for x in recs if x["verdict"] == "excluded"} == EXCLUDED


def test_csv(run_cli):
    r = run_cli("batch", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 7
    got = {row["id"]: (row["final_verdict"], row["rank"]) for row in rows}
    assert got["sk-telecom"] == ("selected", "1") and got["lg-ai-research"] == ("selected", "5")
    assert got["kt"] == ("excluded", "") and got["kakao"] == ("excluded", "")
    kt = next(row for row in rows if row["id"] == "kt")
    assert kt["foreign_independence"] == "not met" and kt["development_experience"] == "met 25"
    assert kt["failed_gates"] == "foreign_independence" and kt["score"] == "70"


def test_markdown(run_cli):
    r = run_cli("batch", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in r.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| rank")]
    got = {row[1]: (row[0], row[2]) for row in rows}
    assert got["SK Telecom (`sk-telecom`)"] == ("1", "**selected**")
    assert got["KT (`kt`)"] == ("", "**excluded**")
    assert sum(v == "**selected**" for _, v in got.values()) == 5


def test_quota_three(run_cli):
    r = run_cli("batch", "--param", "quota=3", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    final = {a["applicant"]["id"]: a["final_verdict"] for a in doc["applicants"]}
    assert {k for k, v in final.items() if v == "selected"} == {"sk-telecom", "naver-cloud", "nc-ai"}
    # Upstage ties NC AI on score and on every criterion: the name decides (documented in decision.py)
    assert {k for k, v in final.items() if v == "eligible-not-selected"} == {"upstage", "lg-ai-research"}
    up = next(a for a in doc["applicants"] if a["applicant"]["id"] == "upstage")
    assert up["rank"] == 4 and "past the quota of 3" in up["final_reason"]
    assert doc["summary"]["eligible-not-selected"] == 2


# --- ranking and tie-breaks ----------------------------------------------------------------

def _entry(key, id_, score, awarded=(), gates=2, name=None):
    return dec.Entry(key=key, id=id_, name=name or id_, verdict="selected", score=score, awarded=awarded,
                     gates_met=gates, why="selected: ok")


def _ranked(tie_breaks, entries, quota=None):
    program = api.load_rules(RULES)
    program.decision = dec_policy(program, tie_breaks, quota)
    return [e.id for e in sorted(dec.decide(program, entries).entries, key=lambda e: e.rank)]


def dec_policy(program, tie_breaks, quota):
    from dataclasses import replace
    return replace(program.decision, tie_breaks=tuple(tie_breaks), quota=quota)


def test_tie_break_criteria_order():
    es = [_entry(0, "a", 55, (0, 25, 30)), _entry(1, "b", 55, (30, 25, 0)), _entry(2, "c", 80, (30, 25, 25))]
    assert _ranked(["criteria_order", "name"], es) == ["c", "b", "a"]


def test_tie_break_name_then_id():
    es = [_entry(0, "z", 50, name="Alpha"), _entry(1, "y", 50, name="beta"), _entry(2, "x", 50, name="alpha")]
    # case-insensitive name, then id
    assert _ranked(["name"], es) == ["x", "z", "y"]
    assert _ranked(["id"], es) == ["x", "y", "z"]


def test_tie_break_gates_met_and_quota():
    es = [_entry(0, "a", 60, gates=1), _entry(1, "b", 60, gates=3), _entry(2, "c", 70)]
    program = api.load_rules(RULES)
    program.decision = dec_policy(program, ["gates_met"], 2)
    d = dec.decide(program, es)
    assert [(e.id, e.rank, e.final) for e in sorted(d.entries, key=lambda e: e.rank)] == \
        [("c", 1, "selected"), ("b", 2, "selected"), ("a", 3, "eligible-not-selected")]


def test_ranking_matches_one_key_per_entry():
    """The ranking of a tie_breaks policy is the order of one sort on the whole key: score, then
    each tie-break, then id and input position."""
    import random
    rng = random.Random(7)
    reference = {"criteria_order": lambda e: tuple(-a for a in e.awarded), "gates_met": lambda e: -e.gates_met,
                 "name": lambda e: e.name.casefold(), "id": lambda e: e.id}
    policies = [[], ["criteria_order"], ["name"], ["gates_met", "name"], ["criteria_order", "name"],
                ["id", "gates_met"], ["name", "criteria_order", "gates_met"]]
    program = api.load_rules(RULES)
    for trial in range(200):
        es = [dec.Entry(key=k, id=rng.choice("abcd") + str(rng.randrange(3)), name=rng.choice(["Ann", "ann", "Bo", "bo", "Cy"]),
                        verdict="selected", score=rng.choice([50, 55.5, 60]), gates_met=rng.randrange(3),
                        awarded=tuple(rng.choice([0, 10, 25]) for _ in range(3)))
              for k in rng.sample(range(100), rng.randrange(1, 30))]
        tie_breaks = policies[trial % len(policies)]
        parts = [reference[tb] for tb in tie_breaks]
        expected = sorted(es, key=lambda e: (-e.score, *[p(e) for p in parts], e.id, e.key))
        program.decision = dec_policy(program, tie_breaks, None)
        assert [e.key for e in Ranking(program).ranked(es)] == [e.key for e in expected], tie_breaks


def test_jsonl_summary_is_the_json_of_its_dict():
    """The summary line's ranking items are written from a template: the same text as the JSON of
    the whole summary, also for ids and verdicts that JSON must escape."""
    from eligibility.records.record import compact_json
    from eligibility.render.batch_jsonl import SUMMARY_SCHEMA, JsonlSink
    program = api.load_rules(RULES)
    ids = ['plain', 'quote"d', "back\\slash", "caf\u00e9", "line\u2028sep", "tab\tx", "\u0001ctl"]
    ranking = [dec.Entry(key=10 * i, id=x, name=x, verdict="selected", rank=i + 1, final=["selected", "eligible-not-selected"][i % 2])
               for i, x in enumerate(ids)]
    decision = dec.Decision(entries=ranking, quota=1, threshold=50, tie_breaks=("name",), ranking=ranking)
    result = batch.BatchResult(program=program, decision=decision, summary={"inputs": 7})
    out = io.StringIO()
    JsonlSink(out).finish(result)
    expected = compact_json({"schema": SUMMARY_SCHEMA, **batch.decision_dict(result), "ranking": [
        {"input": e.key, "id": e.id, "rank": e.rank, "final_verdict": e.final} for e in ranking]}) + "\n"
    assert out.getvalue() == expected and json.loads(out.getvalue())["ranking"][1]["id"] == 'quote"d'


# --- other inputs --------------------------------------------------------------------------

def test_jsonl_and_csv_inputs(tmp_path, run_cli):
    program = api.load_rules(RULES)
    profiles = [synthetic(i) for i in range(40)]
    jl = tmp_path / "pop.jsonl"
    jl.write_text("".join(json.dumps(p) + "\n" for p in profiles[:20]) + "{not json\n")
    cs = tmp_path / "pop.csv"
    with open(cs, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", *FACTS])
        for p in profiles[20:]:
            f = p["facts"]
            w.writerow([p["id"], p["name"], *[";".join(f[k]) if isinstance(f[k], list) else
                                                ("" if f[k] == "unknown" else str(f[k]).lower()) for k in FACTS]])
        w.writerow(["bad-row", "Bad", "maybe", *[""] * (len(FACTS) - 1)])
    result = batch.run_batch(program, [str(jl), str(cs)])
    assert result.summary["inputs"] == 42 and result.summary["errors"] == 2
    errs = {(os.path.basename(e["path"]), e["line"]) for e in result.errors}
    assert errs == {("pop.jsonl", 21), ("pop.csv", 22)}
    assert "in_house_architecture" in result.errors[1]["message"]
    # the same verdicts as the Python reference on each profile
    ev = api.Evaluator(program, "python")
    for e in result.decision.entries:
        if e.verdict == "error":
            continue
        p = profiles[int(e.id.split("-")[1])]
        data = {k: v for k, v in p["facts"].items() if v != "unknown"}
        from eligibility.language.profile import applicant_from_data
        from eligibility.core.errors import Problems
        a = applicant_from_data({"id": p["id"], "facts": data}, program, "x", "", Problems("x"), False)
        assert ev.evaluate(a, trace=False).verdict == e.verdict, e.id
    assert len({e.verdict for e in result.decision.entries}) >= 3
    # and through the CLI, reading stdin
    r = run_cli("batch", "-", "--format", "jsonl", input=jl.read_text())
    assert r.returncode == 2 and "<stdin>:21:" in r.stderr
    assert len(r.stdout.splitlines()) == 22


def test_broken_yaml_among_1000(tmp_path, run_cli):
    d = tmp_path / "many"
    d.mkdir()
    for i in range(1000):
        (d / f"p{i:04d}.yaml").write_text(yaml_profile(i))
    (d / "p0500-broken.yaml").write_text("id: broken\nfacts: [unclosed\n")
    out = tmp_path / "out.csv"
    r = run_cli("batch", str(d), "--format", "csv", "--output", str(out), "--jobs", "2")
    assert r.returncode == 2
    assert "p0500-broken.yaml:" in r.stderr and "invalid YAML" in r.stderr
    rows = list(csv.DictReader(open(out, newline="")))
    assert len(rows) == 1001
    bad = [row for row in rows if row["final_verdict"] == "error"]
    assert len(bad) == 1 and "p0500-broken.yaml:3: invalid YAML" in bad[0]["error"]
    assert len({row["id"] for row in rows if row["final_verdict"] != "error"}) == 1000
    assert "1001 inputs" in r.stderr and "1 error(s)" in r.stderr


def test_duplicate_ids_are_errors(tmp_path):
    jl = tmp_path / "dup.jsonl"
    jl.write_text(json.dumps(synthetic(1)) + "\n" + json.dumps(synthetic(1)) + "\n")
    result = batch.run_batch(api.load_rules(RULES), [str(jl)])
    assert result.summary["errors"] == 1 and "duplicate applicant id 'app-00001'" in result.errors[0]["message"]
    assert result.errors[0]["line"] == 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_duplicate_ids_in_one_unit_and_across_units(tmp_path, jobs):
    """A later input with an earlier input's id is an error in the streamed output too, whether
    the earlier one is in the same unit of work or in another one."""
    from eligibility.program.inputs import BLOCK_BYTES
    from eligibility.render.batch_jsonl import JsonlSink, jsonl_piece
    lines = [json.dumps(synthetic(i)) for i in range(3000)]
    lines[21] = json.dumps(synthetic(20))              # same unit as its first
    lines[2990] = json.dumps(synthetic(7))             # several blocks later
    assert sum(map(len, lines)) > 3 * BLOCK_BYTES
    jl, out = tmp_path / "pop.jsonl", tmp_path / "out.jsonl"
    jl.write_text("\n".join(lines) + "\n")
    with open(out, "w", encoding="utf-8") as fh:
        result = batch.run_batch(api.load_rules(RULES), [str(jl)], batch.BatchOptions(jobs=jobs, keep_all=False),
                                 JsonlSink(fh))
    records = [json.loads(line) for line in out.read_text().splitlines()[:-1]]
    assert len(records) == 3000
    errors = {k: r["message"] for k, r in enumerate(records) if r["verdict"] == "error"}
    assert errors == {21: "duplicate applicant id 'app-00020' (an earlier input has the same id)",
                      2990: "duplicate applicant id 'app-00007' (an earlier input has the same id)"}
    assert [e["line"] for e in result.errors] == [22, 2991]
    assert result.summary["inputs"] == 3000 and result.summary["errors"] == 2


def test_missing_path_is_usage_error(run_cli):
    r = run_cli("batch", "no/such/dir")
    assert r.returncode == 2 and "no/such/dir: no such file or directory" in r.stderr


# --- atomic output, jobs, engines ----------------------------------------------------------

def test_interrupted_run_keeps_old_output(tmp_path, monkeypatch):
    from eligibility.cli import app
    out = tmp_path / "out.json"
    out.write_text("old\n")
    calls = {"n": 0}
    from eligibility.program import inputs
    real = inputs.parse_item

    def flaky(item, program):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(item, program)

    monkeypatch.setattr(inputs, "parse_item", flaky)
    r = CliRunner().invoke(app, ["batch", "--rules", RULES, APPLICANTS, "--format", "json", "-o", str(out)])
    assert r.exit_code == 130
    assert out.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.json"]        # no temporary file left behind
    done = re.search(r"interrupted after (\d+) input\(s\); no output written", r.output)
    assert done and int(done.group(1)) <= 3          # progress is counted a unit of work at a time


def test_jobs_two_same_as_one(tmp_path):
    program = api.load_rules(RULES)
    jl = tmp_path / "pop.jsonl"
    jl.write_text("".join(json.dumps(synthetic(i)) + "\n" for i in range(700)))
    one = batch.run_batch(program, [str(jl), APPLICANTS], batch.BatchOptions(jobs=1))
    two = batch.run_batch(program, [str(jl), APPLICANTS], batch.BatchOptions(jobs=2))
    assert [dataclasses.asdict(e) for e in one.decision.entries] == [dataclasses.asdict(e) for e in two.decision.entries]
    assert one.summary == two.summary and one.summary["inputs"] == 707


def test_jobs_two_writes_the_same_jsonl_and_csv(tmp_path, monkeypatch):
    """Output pieces come back from the workers in input order, the same bytes as with one job
    (including an error line, a duplicate id and the ranking of applicants kept only to be ranked,
    written 7 items at a time with one job and all at once with two)."""
    from eligibility.render import batch_jsonl
    from eligibility.render.batch_csv import CsvSink
    from eligibility.render.batch_jsonl import JsonlSink, jsonl_piece
    program = api.load_rules(RULES, params={"quota": 40})
    jl = tmp_path / "pop.jsonl"
    lines = [json.dumps(synthetic(i)) for i in range(2500)]
    lines[7], lines[1500] = "{not json", lines[3]
    jl.write_text("\n".join(lines) + "\n")
    outs = []
    for jobs in (1, 2):
        monkeypatch.setattr(batch_jsonl, "RANKING_CHUNK", 7 if jobs == 1 else 10 ** 6)
        text, table = io.StringIO(), io.StringIO()
        batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=jobs, keep_all=False), JsonlSink(text))
        batch.run_batch(program, [str(jl)], batch.BatchOptions(jobs=jobs, keep_all=False), CsvSink(table, program))
        outs.append((text.getvalue(), table.getvalue()))
    assert outs[0] == outs[1]
    records = [json.loads(x) for x in outs[0][0].splitlines()]
    assert len(records) == 2501 and records[7]["verdict"] == "error" and records[1500]["verdict"] == "error"
    ranking = records[-1]["ranking"]
    assert [r["rank"] for r in ranking] == list(range(1, len(ranking) + 1)) and len(ranking) > 40
    assert sum(r["final_verdict"] == "selected" for r in ranking) == 40


@pytest.mark.parametrize("engine", ["python", "both"])
def test_engines_agree(tmp_path, engine):
    program = api.load_rules(RULES)
    jl = tmp_path / "pop.jsonl"
    jl.write_text("".join(json.dumps(synthetic(i)) + "\n" for i in range(300)))
    ref = batch.run_batch(program, [str(jl), APPLICANTS])
    other = batch.run_batch(program, [str(jl), APPLICANTS], batch.BatchOptions(engine=engine))
    assert [(e.id, e.final, e.rank, e.score) for e in ref.decision.entries] == \
        [(e.id, e.final, e.rank, e.score) for e in other.decision.entries]


def test_cli_engine_python_same_verdicts(run_cli):
    a = json.loads(run_cli("batch", "--format", "json").stdout)
    b = json.loads(run_cli("batch", "--format", "json", "--engine", "python").stdout)
    assert [(x["applicant"]["id"], x["final_verdict"]) for x in a["applicants"]] == \
        [(x["applicant"]["id"], x["final_verdict"]) for x in b["applicants"]]
