"""A programme in stages: populations that carry over, an added call, the state on a date, journeys."""
import json
import os

import pytest

from eligibility import api
from eligibility.program.stages import IN, OUT, run_stages

from helpers import DATA

RULES = "rules/sovereign-ai-2025.yaml"


def _state(as_of):
    program = api.load_rules(RULES, as_of=as_of)
    return {j.id: j for j in run_stages(program, ["applicants"], as_of=as_of).journeys}


def test_the_state_on_20_february_2026():
    state = _state("2026-02-20")
    assert {k for k, j in state.items() if j.status == IN} == {
        "lg-ai-research", "sk-telecom", "upstage", "motif-technologies"}
    out = {k: j.left_at.stage for k, j in state.items() if j.status == OUT}
    assert out == {"kakao": "selection", "kt": "selection", "naver-cloud": "phase1", "nc-ai": "phase1",
                   "trillion-labs": "additional-call"}
    assert "weights_independence" in state["naver-cloud"].left_at.reason
    assert "combined_score" in state["nc-ai"].left_at.reason
    trillion = state["trillion-labs"].left_at.reason
    assert "no per-applicant reasons were published" in trillion and "gate 'committee'" not in trillion


def test_an_added_call_judges_its_entrants_only_and_the_others_continue():
    state = _state("2026-02-20")
    assert state["motif-technologies"].entered_at == "additional-call"
    assert [s.stage for s in state["motif-technologies"].steps] == ["additional-call"]
    assert [(s.stage, s.verdict) for s in state["upstage"].steps] == [
        ("selection", "selected"), ("phase1", "selected"), ("additional-call", "continued")]


def test_a_stage_without_a_score_has_no_score():
    steps = {s.stage: s for s in _state("2026-02-20")["lg-ai-research"].steps}
    assert steps["selection"].score == 50 and steps["phase1"].score is None
    assert "score" not in steps["phase1"].reason


def test_a_later_entrant_is_not_judged_before_its_stage():
    program = api.load_rules(RULES, as_of="2026-02-20")
    state = {j.id: j for j in run_stages(program, ["applicants"], as_of="2026-01-15").journeys}
    assert state["motif-technologies"].steps == [] and state["motif-technologies"].status == "not entered"
    assert state["naver-cloud"].status == OUT and state["upstage"].status == IN


def test_a_file_without_stages_is_one_stage():
    program = api.load_rules(RULES)
    journeys = run_stages(program, ["applicants"]).journeys
    assert len(journeys) == 7 and {j.status for j in journeys} == {IN, OUT}
    assert sum(j.status == IN for j in journeys) == 5


def test_a_bad_profile_is_an_error_journey_not_dropped(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: [\n")
    program = api.load_rules(RULES, as_of="2026-02-20")
    journeys = run_stages(program, ["applicants", str(tmp_path / "bad.yaml")], as_of="2026-02-20").journeys
    assert len(journeys) == 10 and [j.path for j in journeys if j.status == "error"] == [str(tmp_path / "bad.yaml")]


def test_stage_dates_must_increase(tmp_path):
    text = open("rules/sovereign-ai-2025/2026-02-additional-call.yaml").read()
    bad = tmp_path / "x.yaml"
    bad.write_text(text.replace("date: 2026-01-15", "date: 2025-01-15"))
    with pytest.raises(api.InputError, match="must come after 2025-08-04"):
        api.load_rules(str(bad))


def test_batch_as_of_shows_who_is_in_and_who_left_where(run_cli):
    r = run_cli("batch", "--as-of", "2026-02-20")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "in the programme (4):" in text and "out (5):" in text
    assert "Trillion Labs (trillion-labs): out at additional-call (2026-02-20), excluded" in text
    assert "Naver Cloud (naver-cloud): out at phase1 (2026-01-15)" in text
    data = json.loads(run_cli("batch", "--as-of", "2026-02-20", "-f", "json").stdout)
    assert data["schema"] == "eligibility.stages/1" and len(data["journeys"]) == 9


def test_history_shows_selection_then_the_frozen_encoder_exit(run_cli):
    r = run_cli("history", "applicants/naver-cloud.yaml")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(l.strip().startswith("2025-08-04") and "selected" in l for l in lines)
    assert any(l.strip().startswith("2026-01-15") and "excluded" in l for l in lines)
    assert "frozen" in r.stdout or "could not be updated" in r.stdout
    assert "evidence: uses_frozen_foreign_weights: ZDNet Korea, 2026-01-15" in r.stdout


def test_history_of_a_missing_profile_is_one_error_line(run_cli):
    r = run_cli("history", "applicants/nobody.yaml")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "applicants/nobody.yaml" in r.stderr


def test_history_as_of_a_date_stops_at_the_stages_decided_by_then(run_cli):
    r = run_cli("history", "applicants/naver-cloud.yaml", "--as-of", "2025-12-01", "-f", "json")
    assert r.returncode == 0, r.stderr
    journey = json.loads(r.stdout)
    assert journey["status"] == "in" and [s["stage"] for s in journey["steps"]] == ["selection"]


def test_the_engines_agree_on_every_stage():
    program = api.load_rules(RULES, as_of="2026-02-20")
    runs = [run_stages(program, ["applicants"], as_of="2026-02-20", engine=e).journeys for e in ("durable", "python")]
    assert [(j.id, j.status, j.steps) for j in runs[0]] == [(j.id, j.status, j.steps) for j in runs[1]]
    both = run_stages(program, ["applicants"], as_of="2026-02-20", engine="both").journeys   # raises if they differ
    assert [(j.id, j.status) for j in both] == [(j.id, j.status) for j in runs[0]]


def test_entrants_must_name_a_bool_fact(tmp_path):
    text = open("rules/sovereign-ai-2025/2026-02-additional-call.yaml").read()
    bad = tmp_path / "x.yaml"
    bad.write_text(text.replace("entrants: applied_additional_call", "entrants: evaluators_accepting"))
    with pytest.raises(api.InputError, match="entrants must name a bool fact"):
        api.load_rules(str(bad))


def test_each_stage_reads_a_dated_parameter_on_its_own_date():
    program = api.load_rules(os.path.join(DATA, "staged_dated.yaml"), as_of="2026-06-01")
    assert program.parameters["pass_mark"].value == 60            # the value in force on the date asked
    [ada] = [j for j in run_stages(program, [os.path.join(DATA, "dated_profiles", "ada.yaml")],
                                   as_of="2026-06-01").journeys]
    assert [(s.stage, s.verdict) for s in ada.steps] == [("first", "selected"), ("second", "excluded")]
    assert [s.evaluation.program.parameters["pass_mark"].value for s in ada.steps] == [50, 60]


def test_history_names_an_unreadable_profile_once(run_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nname: Bad\nfacts:\n  no_such_fact: {value: 1}\n", encoding="utf-8")
    for path in ("applicants/nobody.yaml", str(bad)):
        r = run_cli("history", path, "--applicants", "applicants")
        assert r.returncode == 2 and len(r.stderr.splitlines()) >= 1
        assert r.stderr.count(path) == len(r.stderr.splitlines()), r.stderr   # each line names it once
