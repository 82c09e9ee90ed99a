"""`diff --as-of A --vs-as-of B` attributes each change separately: to dated parameter values, to the
rules of the stage (the rule version: criteria, decision, the stage that decided), and to new evidence."""
import json
import os

from helpers import DATA

DATED = os.path.join(DATA, "dated_params.yaml")
PROFILES = os.path.join(DATA, "dated_profiles")


def _diff(run_cli, *args):
    r = run_cli("diff", *args, "-f", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    return report, {a["id"]: a for a in report["applicants"]}


def test_a_dated_parameter_value_is_its_own_cause(run_cli):
    report, rows = _diff(run_cli, PROFILES, "--rules", DATED, "--as-of", "2025-12-31", "--vs-as-of", "2026-01-15")
    [param] = report["rule_changes"]["parameters"]
    assert param == {"name": "pass_mark", "old": 50, "new": 60, "change": "dated value",
                     "effective": {"old": "2025-01-01", "new": "2026-01-15"}, "basis": "official"}
    ada = rows["ada"]
    assert (ada["old"]["verdict"], ada["new"]["verdict"]) == ("selected", "excluded")
    assert ada["attribution"] == {
        "parameter_values": ["pass: pass_mark 50 -> 60 (the value in force from 2026-01-15, official)"],
        "stage_rules": [], "new_evidence": []}
    assert any(c.startswith("pass: met -> not_met (parameter value: pass_mark 50 -> 60") for c in ada["causes"])
    assert "rule version" not in " ".join(ada["causes"])


def test_points_from_a_dated_parameter_change_the_score_only(run_cli):
    report, rows = _diff(run_cli, PROFILES, "--rules", DATED, "--as-of", "2025-06-30", "--vs-as-of", "2025-07-01")
    ada = rows["ada"]
    assert ada["status"] == "changed" and (ada["old"]["score"], ada["new"]["score"]) == (10, 20)
    assert ada["attribution"]["parameter_values"] == [
        "majority: bonus 10 -> 20 (the value in force from 2025-07-01, calibration)"]
    assert rows["bea"]["status"] == "unchanged"          # no majority: the points never counted


def test_the_three_causes_are_kept_apart(run_cli, tmp_path):
    text = open(DATED).read().replace("decision:", """  - {id: votes_known, title: The votes are known, kind: gate, condition: accepting is known,
     basis: calibration, source: {ref: notice, clause: the votes}}
decision:""")
    new = tmp_path / "new.yaml"
    new.write_text(text)
    report, rows = _diff(run_cli, PROFILES, "--old", DATED, "--new", str(new), "--as-of", "2025-12-31",
                         "--vs-as-of", "2026-01-15")
    bea = rows["bea"]
    assert (bea["old"]["verdict"], bea["new"]["verdict"]) == ("excluded", "selected")
    assert bea["attribution"] == {
        "parameter_values": ["pass: pass_mark 50 -> 60 (the value in force from 2026-01-15, official)"],
        "stage_rules": ["votes_known: criterion added"],
        "new_evidence": ["pass: mark 45 -> 62 (official, Test ministry, 2026-01-10)"]}
    causes = " | ".join(bea["causes"])
    assert "parameter value: pass_mark 50 -> 60" in causes and "new evidence: mark 45 -> 62" in causes
    assert "votes_known: absent -> met (rule version: criterion added)" in causes
    assert {c["id"]: c["edits"] for c in report["rule_changes"]["criteria"]} == {"votes_known": ["criterion added"],
                                                                               "pass": []}


def test_the_shipped_dates_attribute_rule_version_and_evidence_apart(run_cli):
    _, rows = _diff(run_cli, "--as-of", "2025-08-04", "--vs-as-of", "2026-01-15")
    naver = rows["naver-cloud"]["attribution"]
    assert naver["parameter_values"] == []
    assert "weights_independence: criterion added" in naver["stage_rules"]
    assert any(e.startswith("weights_independence: uses_frozen_foreign_weights unknown -> true")
               for e in naver["new_evidence"])


def test_a_programme_in_stages_is_compared_standing_by_standing(run_cli):
    report, rows = _diff(run_cli, "--as-of", "2026-01-15", "--vs-as-of", "2026-02-20")
    assert len(rows) == 9            # the additional call's entrants are read from their stage's folder
    motif = rows["motif-technologies"]
    assert (motif["old"]["verdict"], motif["new"]["verdict"]) == ("not entered", "selected")
    assert motif["new"]["stage"] == {"id": "additional-call", "date": "2026-02-20"} and motif["old"]["stage"] is None
    assert motif["attribution"]["stage_rules"][0] == ("decided at stage additional-call (2026-02-20) on 2026-02-20 "
                                                      "(on 2026-01-15: not entered)")
    assert (rows["trillion-labs"]["new"]["verdict"], rows["trillion-labs"]["status"]) == ("excluded", "flipped")
    for team in ("kt", "kakao", "naver-cloud", "nc-ai", "lg-ai-research", "sk-telecom", "upstage"):
        assert rows[team]["status"] == "unchanged", rows[team]       # decided at the same stage on both dates
    assert rows["kt"]["new"]["stage"]["id"] == "selection" and rows["upstage"]["new"]["stage"]["id"] == "phase1"
    assert "stage additional-call added" in report["rule_changes"]["stages"]
