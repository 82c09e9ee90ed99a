"""`check`, `replay` and `report` on a programme in stages: `check` gives the applicant's standing on the date (its journey, decided with
the other applicants of its directory) and its evaluation at the stage that judged it last; `replay`
re-runs it the same way; a single-stage version is checked as before."""
import json

import pytest

STAGED = "2026-02-20"


def _check(run_cli, profile, *extra):
    r = run_cli("check", profile, "--as-of", STAGED, "-f", "json", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("profile, status, stage, verdict, rules, reason", [
    ("applicants/kt.yaml", "out", "selection", "excluded", "rules/sovereign-ai-2025.yaml", "foreign_independence"),
    ("applicants/naver-cloud.yaml", "out", "phase1", "excluded", "rules/sovereign-ai-2025/2026-01-phase1.yaml",
     "weights_independence"),
    ("applicants/upstage.yaml", "in", "phase1", "selected", "rules/sovereign-ai-2025/2026-01-phase1.yaml",
     "all 4 gates met"),
    ("applicants/additional-call/motif-technologies.yaml", "in", "additional-call", "selected",
     "rules/sovereign-ai-2025/2026-02-additional-call.yaml", "all 3 gates met"),
    ("applicants/additional-call/trillion-labs.yaml", "out", "additional-call", "excluded",
     "rules/sovereign-ai-2025/2026-02-additional-call.yaml", "no per-applicant reasons were published")])
def test_the_standing_is_judged_at_the_stage_that_decided_it_last(run_cli, profile, status, stage, verdict, rules,
                                                                   reason):
    rec = _check(run_cli, profile)
    st = rec["stage"]
    assert (st["status"], st["stage"], st["final_verdict"], st["as_of"]) == (status, stage, verdict, STAGED)
    assert rec["verdict"] == verdict and reason in rec["reason"]
    assert rec["program"]["path"] == rules and rec["program"]["rules_path"] == "rules/sovereign-ai-2025.yaml"
    assert rec["as_of"] == st["date"]          # the facts as on record on the stage's date, never later ones
    assert st["steps"][-1]["stage"] in (stage, "additional-call")


def test_kt_left_at_selection_with_its_reason_in_the_text(run_cli):
    r = run_cli("check", "applicants/kt.yaml", "--as-of", STAGED)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "EXCLUDED KT (kt)" in text and "UNDETERMINED" not in text
    assert "standing on 2026-02-20: out at stage selection (2025-08-04), excluded" in text
    assert "journey: excluded at selection 2025-08-04" in text
    assert "applied_additional_call" not in text


def test_a_continuing_team_shows_its_whole_journey_and_no_score_where_the_stage_has_none(run_cli):
    r = run_cli("check", "applicants/upstage.yaml", "--as-of", STAGED)
    text = " ".join(r.stdout.split())
    assert ("journey: selected at selection 2025-08-04, selected at phase1 2026-01-15, "
            "continued at additional-call 2026-02-20") in text
    assert "in the programme, last judged at stage phase1 (2026-01-15), selected" in text
    assert "score 0" not in text and "threshold 0" not in text
    md = run_cli("check", "applicants/upstage.yaml", "--as-of", STAGED, "-f", "markdown").stdout
    assert "- Standing on 2026-02-20: in the programme" in md and "- Score:" not in md


def test_the_stage_section_is_only_for_a_programme_in_stages(run_cli):
    for extra in ((), ("--as-of", "2026-01-15"), ("--as-of", "2025-08-04")):
        r = run_cli("check", "applicants/kt.yaml", "-f", "json", *extra)
        assert r.returncode == 0 and "stage" not in json.loads(r.stdout)
        assert "standing on" not in run_cli("check", "applicants/kt.yaml", *extra).stdout


def test_fail_on_reads_the_final_verdict_at_the_stage(run_cli):
    assert run_cli("check", "applicants/kt.yaml", "--as-of", STAGED, "--fail-on", "excluded").returncode == 1
    assert run_cli("check", "applicants/upstage.yaml", "--as-of", STAGED, "--fail-on", "excluded").returncode == 0


@pytest.mark.parametrize("extra, word", [(("--param", "additional_quota=2"), "parameter overrides"),
                                         (("--set", "applied_additional_call=true"), "fact overrides")])
def test_overrides_are_refused_in_one_line(run_cli, extra, word):
    r = run_cli("check", "applicants/kt.yaml", "--as-of", STAGED, *extra)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "not available for a programme in stages" in r.stderr and word in r.stderr


def test_stdin_is_refused_in_one_line(run_cli):
    r = run_cli("check", "-", "--as-of", STAGED, input=open("applicants/kt.yaml").read())
    assert r.returncode == 2 and "a profile from stdin" in r.stderr and "Traceback" not in r.stderr


def test_replay_of_a_staged_check_is_identical_and_catches_a_changed_standing(run_cli, tmp_path):
    rec = _check(run_cli, "applicants/additional-call/trillion-labs.yaml")
    path = tmp_path / "trillion.json"
    path.write_text(json.dumps(rec))
    r = run_cli("replay", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    rec["stage"]["final_verdict"] = "selected"
    path.write_text(json.dumps(rec))
    r = run_cli("replay", str(path), "-f", "json")
    assert r.returncode == 1
    diffs = json.loads(r.stdout)["results"][0]["differences"]
    assert {"field": "stage.final_verdict", "recorded": "selected", "now": "excluded"}.items() <= diffs[0].items()


def test_the_other_applicants_may_be_named(run_cli, tmp_path):
    # alone, KT is still judged at selection by the selection's rules (no quota is reached)
    import shutil
    shutil.copy("applicants/kt.yaml", tmp_path / "kt.yaml")
    rec = _check(run_cli, str(tmp_path / "kt.yaml"), "--applicants", str(tmp_path))
    assert rec["stage"]["stage"] == "selection" and rec["stage"]["applicants"] == str(tmp_path)


def test_the_html_report_refuses_a_programme_in_stages_in_one_line(run_cli, tmp_path):
    out = tmp_path / "r.html"
    r = run_cli("report", "--as-of", STAGED, "-o", str(out))
    assert r.returncode == 2 and not out.exists() and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "eligibility: error: rules/sovereign-ai-2025/2026-02-additional-call.yaml: the HTML report does not show a "
        "programme in stages yet (version 2026-02 additional call): use `eligibility batch --as-of DATE` for its "
        "state and `eligibility check PROFILE --as-of DATE` for one applicant's standing"]
    assert run_cli("report", "--as-of", "2026-01-15", "-o", str(out)).returncode == 0 and out.exists()


@pytest.mark.parametrize("args", [("batch", "--as-of", STAGED, "--param", "additional_quota=2"),
                                  ("batch", "--as-of", STAGED, "--set", "applied_additional_call=true"),
                                  ("diff", "--as-of", "2026-01-15", "--vs-as-of", STAGED, "--param",
                                   "additional_quota=2")])
def test_batch_and_diff_refuse_overrides_they_could_not_honour(run_cli, args):
    r = run_cli(*args)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "not available for a programme in stages" in r.stderr
