"""Decisions in time (issue 7): rule versions in force on a date, facts known on a date, the
phase-1 evaluation of January 2026, diff across dates, and replay of saved records."""
import json
import os
import re
import shutil

import pytest

from helpers import ROOT

AUGUST = {"lg-ai-research", "naver-cloud", "nc-ai", "sk-telecom", "upstage"}
PHASE1 = {"lg-ai-research", "sk-telecom", "upstage"}
PHASE1_FILE = os.path.join("rules", "sovereign-ai-2025", "2026-01-phase1.yaml")


def batch_json(run_cli, *args, cwd=ROOT):
    r = run_cli("batch", "--format", "json", *args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    return doc, {a["applicant"]["id"]: a for a in doc["applicants"]}


def final(by_id, verdict):
    return {k for k, a in by_id.items() if a["final_verdict"] == verdict}


def test_as_of_august_gives_the_august_selection_once_reported(run_cli):
    doc, by_id = batch_json(run_cli, "--as-of", "2025-08-06")
    assert final(by_id, "selected") == AUGUST and final(by_id, "excluded") == {"kt", "kakao"}
    assert doc["as_of"] == "2025-08-06"
    assert doc["program"]["version"] == "2025-08 selection" and doc["program"]["effective"] == "2025-08-04"
    assert doc["program"]["path"] == doc["program"]["rules_path"] == "rules/sovereign-ai-2025.yaml"


def test_on_the_decision_day_facts_reported_later_are_unknown(run_cli):
    """On 4 Aug 2025 the facts reported from 5 Aug are unknown; the ministry's decision of that day
    settles the three verdicts the criteria leave open, and the reasons say what was not on record."""
    _, by_id = batch_json(run_cli, "--as-of", "2025-08-04")
    assert final(by_id, "selected") == AUGUST and final(by_id, "excluded") == {"kt", "kakao"}
    _, plain = batch_json(run_cli)
    for aid in ("sk-telecom", "lg-ai-research", "kt", "kakao"):      # decided by the criteria, as later
        assert by_id[aid]["reason"] == plain[aid]["reason"]
    settled = {"naver-cloud": "gate 'foreign_independence' is unknown",
               "upstage": "gate 'autonomy' is unknown; gate 'foreign_independence' is unknown",
               "nc-ai": "score is 0 to 100 against a threshold of 50"}
    for aid, open_items in settled.items():
        rec = by_id[aid]
        assert rec["reason"].startswith("selected by the published decision (criterion 'ministry_selection'); "
                                        f"by this project's criteria alone it is undetermined: {open_items}")
        assert rec["missing"] == [] and rec["basis_detail"]["rests_on"] == [
            {"what": "published decision ministry_selection", "basis": "official"}]
        # the decision is official, but it is on record from a press report of it
        assert rec["basis_detail"]["secondhand_facts"] == ["selected_in_august"] and rec["unofficial"]
    for a in by_id.values():
        for fact in a["trace"]["facts"].values():
            assert all(e["source"]["date"] <= "2025-08-04" for e in fact["evidence"])


def test_without_as_of_the_named_file_is_used_as_written(run_cli):
    doc, by_id = batch_json(run_cli)
    assert final(by_id, "selected") == AUGUST and doc["as_of"] is None
    assert doc["program"]["version"] == "2025-08 selection"


def test_phase1_decision_of_15_january_2026(run_cli):
    doc, by_id = batch_json(run_cli, "--as-of", "2026-01-15")
    assert doc["program"]["version"] == "2026-01 phase 1" and doc["program"]["path"] == PHASE1_FILE
    assert doc["program"]["rules_path"] == "rules/sovereign-ai-2025.yaml"
    assert doc["decision"]["quota"] == 4 and doc["summary"]["selected"] == 3      # the fourth slot stays empty
    assert final(by_id, "selected") == PHASE1
    assert final(by_id, "excluded") == {"naver-cloud", "nc-ai", "kt", "kakao"}

    naver = by_id["naver-cloud"]
    assert naver["gates_failed"] == ["weights_independence"]
    assert "uses_frozen_foreign_weights is true" in naver["reason"]
    assert {c["id"]: c["outcome"] for c in naver["criteria"]}["combined_score"] == "met"   # dropped on independence
    fact = naver["trace"]["facts"]["uses_frozen_foreign_weights"]
    assert fact["value"] is True and fact["date"] == "2026-01-15"
    locators = [e["source"].get("locator", "") for e in fact["evidence"]]
    assert any("20260115174006" in loc for loc in locators) and any("N1008405863" in loc for loc in locators)
    assert any("encoder" in e["note"] for e in fact["evidence"])

    nc = by_id["nc-ai"]
    assert nc["gates_failed"] == ["combined_score"] and "phase1_combined_top4 is false" in nc["reason"]
    assert {c["id"]: c["outcome"] for c in nc["criteria"]}["weights_independence"] == "met"
    assert by_id["kt"]["gates_failed"] == ["phase1_participant"]

    for rec in by_id.values():        # the audit fields of every record
        assert rec["as_of"] == "2026-01-15" and rec["command"][:2] == ["eligibility", "batch"]
        assert len(rec["program"]["sha256"]) == len(rec["applicant"]["sha256"]) == 64
        assert rec["program"]["rules_sha256"] != rec["program"]["sha256"]
        assert rec["versions"]["engine"].startswith("durable-rules")


def test_facts_known_on_a_date_under_the_rules_then_in_force(run_cli):
    r = run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2026-01-14", "-f", "json")
    rec = json.loads(r.stdout)
    assert rec["verdict"] == "selected" and rec["program"]["version"] == "2025-08 selection"
    assert "uses_frozen_foreign_weights" not in rec["trace"]["facts"]    # a fact of the later version only
    r = run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2025-08-03")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "no version of program 'sovereign-ai-2025' is in force on 2025-08-03" in r.stderr


def test_jsonl_records_carry_the_command(run_cli):
    r = run_cli("batch", "--format", "jsonl", "--as-of", "2026-01-15")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert all(x["command"] == ["eligibility", "batch", "--format", "jsonl", "--as-of", "2026-01-15"]
               for x in lines[:-1])
    assert lines[-1]["as_of"] == "2026-01-15" and lines[-1]["program"]["version"] == "2026-01 phase 1"


def test_diff_across_dates_attributes_rule_version_and_new_evidence(run_cli):
    r = run_cli("diff", "--as-of", "2025-08-06", "--vs-as-of", "2026-01-15", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["old"]["as_of"] == "2025-08-06" and report["new"]["as_of"] == "2026-01-15"
    assert report["new"]["version"] == "2026-01 phase 1"
    flips = {a["id"]: (a["old"]["verdict"], a["new"]["verdict"]) for a in report["applicants"] if a["status"] == "flipped"}
    assert flips == {"naver-cloud": ("selected", "excluded"), "nc-ai": ("selected", "excluded")}
    added = {c["id"] for c in report["rule_changes"]["criteria"] if c["edits"] == ["criterion added"]}
    assert added == {"phase1_participant", "weights_independence", "combined_score"}
    naver = next(a for a in report["applicants"] if a["id"] == "naver-cloud")
    gate = next(c for c in naver["criteria"] if c["id"] == "weights_independence")
    assert gate["edits"] == ["criterion added"] and gate["new"]["outcome"] == "not_met"
    [evidence] = gate["evidence"]
    assert evidence["fact"] == "uses_frozen_foreign_weights" and evidence["change"] == "value"
    assert evidence["old"]["value"] is None and evidence["new"]["value"] is True
    assert any("20260115174006" in e["source"].get("locator", "") for e in evidence["new"]["evidence"])
    cause = next(c for c in naver["causes"] if c.startswith("weights_independence"))
    assert "rule version: criterion added" in cause and "new evidence: uses_frozen_foreign_weights unknown -> true" in cause
    nc = next(a for a in report["applicants"] if a["id"] == "nc-ai")
    assert any("new evidence: phase1_combined_top4 unknown -> false" in c for c in nc["causes"])
    # the markdown output names both dates
    r = run_cli("diff", "--as-of", "2025-08-06", "--vs-as-of", "2026-01-15", "--format", "markdown")
    assert r.stdout.startswith("## Rule change impact: `rules/sovereign-ai-2025.yaml (as of 2025-08-06)` → "
                               "`rules/sovereign-ai-2025/2026-01-phase1.yaml (as of 2026-01-15)`")


@pytest.fixture
def workdir(tmp_path):
    for d in ("rules", "applicants"):
        shutil.copytree(os.path.join(ROOT, d), tmp_path / d)
    return tmp_path


def test_replay_check_record_is_identical(run_cli, workdir):
    r = run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2026-01-15", "--set", "phase1_combined_top4=false",
                "-f", "json", "-o", "naver.json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    r = run_cli("replay", "naver.json", "--format", "json", cwd=workdir)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["identical"] and out["kind"] == "record" and out["results"][0]["verdict"] == "excluded"
    # one byte changed in the rules version evaluated: the hash names the file, exit 1
    path = workdir / "rules" / "sovereign-ai-2025" / "2026-01-phase1.yaml"
    path.write_bytes(path.read_bytes().replace(b"value: 4", b"value: 3", 1))
    r = run_cli("replay", "naver.json", "--format", "json", cwd=workdir)
    assert r.returncode == 1
    [diff] = json.loads(r.stdout)["results"][0]["differences"]
    assert diff["field"] == "program.sha256" and PHASE1_FILE in diff["note"]


def test_replay_batch_and_one_changed_byte(run_cli, workdir):
    r = run_cli("batch", "--as-of", "2026-01-15", "-f", "json", "-o", "out.json", cwd=workdir)
    assert r.returncode == 0, r.stderr
    r = run_cli("replay", "out.json", cwd=workdir)
    assert r.returncode == 0 and "7 of 7 result(s) identical" in r.stdout
    rules = workdir / "rules" / "sovereign-ai-2025.yaml"
    data = rules.read_bytes()
    rules.write_bytes(data.replace(b"Republic of Korea", b"Republic of Korea.", 1))   # one byte
    assert len(rules.read_bytes()) == len(data) + 1
    r = run_cli("replay", "out.json", "--format", "json", cwd=workdir)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert not out["identical"] and len(out["results"]) == 7
    for res in out["results"]:
        assert [d["field"] for d in res["differences"]] == ["program.rules_sha256"]
        assert "rules/sovereign-ai-2025.yaml changed since the record" in res["differences"][0]["note"]
    r = run_cli("replay", "out.json", cwd=workdir)
    assert "DIFFERENT" in r.stdout and "0 of 7 result(s) identical" in r.stdout
    # a changed profile fact changes the verdict: both the hash and the result are reported
    rules.write_bytes(data)
    nc = workdir / "applicants" / "nc-ai.yaml"
    text = nc.read_text(encoding="utf-8")
    marker = "  phase1_combined_top4:\n    value: false"
    assert marker in text
    nc.write_text(text.replace(marker, "  phase1_combined_top4:\n    value: true"), encoding="utf-8")
    out = json.loads(run_cli("replay", "out.json", "--format", "json", cwd=workdir).stdout)
    nc_result = next(x for x in out["results"] if x["applicant"] == "nc-ai")
    fields = [d["field"] for d in nc_result["differences"]]
    assert fields[0] == "applicant.sha256" and "verdict" in fields and "final_verdict" in fields
    # NC AI now takes the empty fourth slot, ranked by name: SK Telecom and Upstage move down one
    moved = {x["applicant"]: [d["field"] for d in x["differences"]] for x in out["results"] if not x["identical"]}
    assert moved == {"nc-ai": fields, "sk-telecom": ["rank"], "upstage": ["rank"]}


def test_replay_rejects_other_json(run_cli, tmp_path):
    (tmp_path / "x.json").write_text('{"schema": "something/1"}', encoding="utf-8")
    r = run_cli("replay", str(tmp_path / "x.json"))
    assert r.returncode == 2 and "expected an evaluation record" in r.stderr


VERSION = """program: {{id: {pid}, title: t, effective: {eff}{extra}}}
facts:
  only_later: {{type: bool}}
criteria:
  - {{id: g, kind: gate, condition: only_later}}
"""


def _family(tmp_path, main_extra="", pid="sovereign-ai-2025", eff="2026-01-15", extra=""):
    text = open(os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml"), encoding="utf-8").read()
    text = text.replace("file: sovereign-ai-2025/2026-01-phase1.yaml", "file: later.yaml" + main_extra)
    text = re.sub(r"\n    - effective: 2026-02-20\n      file: \S+.*", "", text)   # one later version only
    (tmp_path / "main.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "later.yaml").write_text(VERSION.format(pid=pid, eff=eff, extra=extra), encoding="utf-8")
    return str(tmp_path / "main.yaml")


def test_version_files_are_checked_with_the_main_file(run_cli, tmp_path):
    ok = _family(tmp_path)
    r = run_cli("validate", ok, "--format", "json")
    assert r.returncode == 0 and not [p for p in json.loads(r.stdout) if p["severity"] == "error"], r.stdout
    profile = tmp_path / "p.yaml"
    profile.write_text("id: p\nfacts:\n  only_later: {value: true, evidence: {source: {title: s}, kind: press}}\n"
                       "  in_phase1: {value: true, evidence: {source: {title: s}, kind: press}}\n", encoding="utf-8")
    problems = json.loads(run_cli("validate", ok, str(profile), "--format", "json").stdout)
    # only_later is declared by a version of the program; in_phase1 by none of this test's files
    errors = [p["message"].split(" (")[0] for p in problems if p["severity"] == "error"]
    assert errors == ["unknown fact 'in_phase1'"]
    for kwargs, message in [(dict(pid="other"), "is for program 'other'"),
                            (dict(eff="2026-02-01"), "effective 2026-01-15 here, but 2026-02-01 in the file"),
                            (dict(extra=", versions: [{effective: 2027-01-01, file: x.yaml}]"),
                             "program versions are listed in the main rules file")]:
        path = _family(tmp_path, **kwargs)
        r = run_cli("validate", path, "--format", "json")
        messages = [p["message"] for p in json.loads(r.stdout)]
        assert any(message in m for m in messages), messages
    bad_date = _family(tmp_path)
    text = open(bad_date, encoding="utf-8").read().replace("- effective: 2026-01-15", "- effective: 2025-01-01")
    open(bad_date, "w", encoding="utf-8").write(text)
    (tmp_path / "later.yaml").write_text(VERSION.format(pid="sovereign-ai-2025", eff="2025-01-01", extra=""),
                                         encoding="utf-8")
    messages = [p["message"] for p in json.loads(run_cli("validate", bad_date, "--format", "json").stdout)]
    assert any("effective date 2025-01-01 must come after 2025-08-04" in m for m in messages), messages
