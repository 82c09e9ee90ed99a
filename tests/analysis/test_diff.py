"""`eligibility diff`: the impact of a rule change on every applicant, attributed to the edit."""
import json
import os
import shutil
import subprocess

import pytest

from eligibility import api
from eligibility.analysis.rulediff import compare, evaluate_profiles, fact_changes, load_rules_ref, profile_paths

from helpers import APPLICANTS, ROOT, RULES, criteria_only, with_versions, write_criteria_only

ALL = ["kakao", "kt", "lg-ai-research", "naver-cloud", "nc-ai", "sk-telecom", "upstage"]


def edited(tmp_path, old, new, name="new.yaml"):
    """The August rules without the published decision (written as `criteria-only.yaml`, the old
    side of these diffs), with one edit: so the project's own criteria decide on both sides."""
    write_criteria_only(tmp_path)
    text = criteria_only(open(RULES, encoding="utf-8").read())
    assert text.count(old) == 1, old
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    with_versions(tmp_path)
    return str(path)


def diff_json(run_cli, new, *extra, old=None, code=0):
    old = old or os.path.join(os.path.dirname(new), "criteria-only.yaml")
    r = run_cli("diff", "--old", old, "--new", new, "--format", "json", *extra)
    assert r.returncode == code, r.stderr
    return json.loads(r.stdout)


def flipped(report):
    return {a["id"]: (a["old"]["verdict"], a["new"]["verdict"]) for a in report["applicants"] if a["status"] == "flipped"}


def expected_flips(new_path):
    """The verdict changes computed independently: `check` under each rules file, ranked by batch logic."""
    out = {}
    old_rows = evaluate_profiles(api.load_rules(os.path.join(os.path.dirname(new_path), "criteria-only.yaml")),
                                 profile_paths([APPLICANTS]))
    new_rows = evaluate_profiles(api.load_rules(new_path), profile_paths([APPLICANTS]))
    for a, b in zip(old_rows, new_rows):
        if a["entry"].final != b["entry"].final:
            out[a["entry"].id] = (a["entry"].final, b["entry"].final)
    return out


def test_tightened_gate_flips_exactly_the_applicants_it_hits(run_cli, tmp_path):
    new = edited(tmp_path, 'condition: foreign_partner_dependency != "heavy"',
                 'condition: foreign_partner_dependency == "none"')
    report = diff_json(run_cli, new)
    assert report["schema"] == "eligibility.rulediff/1"
    assert flipped(report) == {"sk-telecom": ("selected", "excluded")}
    sk = report["applicants"][0]
    assert sk["id"] == "sk-telecom" and sk["status"] == "flipped"
    assert [c["id"] for c in sk["criteria"]] == ["foreign_independence"]
    crit = sk["criteria"][0]
    assert (crit["old"]["outcome"], crit["new"]["outcome"]) == ("met", "not_met")
    assert crit["old"]["condition"] == 'foreign_partner_dependency != "heavy"'
    assert crit["new"]["condition"] == 'foreign_partner_dependency == "none"'
    assert any("foreign_partner_dependency" in b for b in crit["new"]["because"])
    assert "condition" in crit["edits"][0]
    assert sk["old"]["rank"] == 1 and sk["new"]["rank"] is None
    assert report["rule_changes"]["criteria"][0]["id"] == "foreign_independence"
    assert report["summary"]["flipped"] == 1 and report["summary"]["applicants"] == 7
    # the others keep their verdict; those ranked below SK Telecom move up one place
    rest = {a["id"]: a for a in report["applicants"][1:]}
    assert all(a["status"] != "flipped" for a in rest.values())
    assert rest["naver-cloud"]["old"]["rank"] == 2 and rest["naver-cloud"]["new"]["rank"] == 1


def test_raised_parameter_flips_exactly_those_attributed_to_it(run_cli, tmp_path):
    new = edited(tmp_path, "  min_generations:\n    type: int\n    value: 2", "  min_generations:\n    type: int\n    value: 3")
    report = diff_json(run_cli, new)
    assert flipped(report) == expected_flips(new) == {"nc-ai": ("selected", "undetermined"),
                                                       "upstage": ("selected", "undetermined")}
    assert report["rule_changes"]["parameters"] == [{"name": "min_generations", "old": 2, "new": 3, "change": "value"}]
    for a in report["applicants"][:2]:
        assert [p["name"] for p in a["parameters"]] == ["min_generations"]
        assert [c["id"] for c in a["criteria"]] == ["development_experience"]
        assert a["criteria"][0]["edits"] == ["parameter min_generations 2 -> 3"]
        assert "development_experience: met -> not_met (parameter min_generations 2 -> 3)" in a["causes"]
    statuses = [a["status"] for a in report["applicants"]]
    assert statuses == sorted(statuses, key=["flipped", "changed", "unchanged"].index)


def test_threshold_and_quota_changes_are_attributed_to_the_decision(run_cli, tmp_path):
    new = edited(tmp_path, "    value: 50\n", "    value: 56\n")
    report = diff_json(run_cli, new)
    assert flipped(report) == expected_flips(new)
    assert set(flipped(report)) == {"lg-ai-research", "nc-ai", "upstage"}
    for a in report["applicants"]:
        if a["status"] == "flipped":
            assert a["criteria"] == []
            assert "threshold 50 -> 56 (parameter score_threshold)" in a["causes"]
            assert [p["name"] for p in a["parameters"]] == ["score_threshold"]
    quota = edited(tmp_path, "    value: 5\n    unit: teams", "    value: 3\n    unit: teams", "quota.yaml")
    report = diff_json(run_cli, quota)
    past_quota = {a["id"] for a in report["applicants"] if (a["old"]["rank"] or 0) > 3}
    assert len(past_quota) == 2 and "lg-ai-research" in past_quota
    assert flipped(report) == {i: ("selected", "eligible-not-selected") for i in past_quota}
    for a in report["applicants"][:2]:
        assert "quota 5 -> 3 (parameter quota)" in a["causes"]


def test_identical_rules_change_nothing(run_cli):
    report = diff_json(run_cli, RULES, old=RULES)
    assert report["summary"]["flipped"] == report["summary"]["changed"] == 0
    assert report["summary"]["unchanged"] == 7 and report["summary"]["verdicts_new"] == {"selected": 5, "excluded": 2}
    assert {a["id"] for a in report["applicants"]} == set(ALL)
    assert run_cli("diff", "--old", RULES, "--new", RULES, "--fail-on-flip").returncode == 0


def test_text_and_markdown(run_cli, tmp_path):
    new = edited(tmp_path, 'condition: foreign_partner_dependency != "heavy"',
                 'condition: foreign_partner_dependency == "none"')
    old = os.path.join(tmp_path, "criteria-only.yaml")
    r = run_cli("diff", "--old", old, "--new", new, "--fail-on-flip")
    assert r.returncode == 1
    assert "1 of 7 applicants change verdict" in r.stdout
    assert "SK Telecom" in r.stdout and "selected -> excluded" in r.stdout
    md = run_cli("diff", "--old", old, "--new", new, "-f", "markdown").stdout
    assert md.startswith("## Rule change impact:")
    assert "| SK Telecom | selected | **excluded** |" in md
    assert "| foreign_independence (gate) | met (" in md
    assert "<details>" in md and "</details>" in md


def test_profiles_argument_and_errors_per_side(run_cli, tmp_path):
    one = [os.path.join(APPLICANTS, "kt.yaml"), os.path.join(APPLICANTS, "kakao.yaml")]
    report = diff_json(run_cli, RULES, *one, old=RULES)
    assert [a["id"] for a in report["applicants"]] == ["kakao", "kt"]
    # a profile that is valid under the old rules only is an error on the new side, not a crash
    new = edited(tmp_path, "  commercial_deployment:\n", "  commercial_deployed:\n")
    new_text = open(new, encoding="utf-8").read().replace("commercial_use_allowed or commercial_deployment",
                                                          "commercial_use_allowed or commercial_deployed")
    open(new, "w", encoding="utf-8").write(new_text)
    report = diff_json(run_cli, new, *one, old=RULES, code=2)       # invalid profiles: listed, and exit 2
    for a in report["applicants"]:
        assert a["new"]["verdict"] == "error" and "unknown fact 'commercial_deployment'" in a["new"]["error"]
        assert a["status"] == "flipped"


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_old_rules_from_git(run_cli, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(os.path.dirname(RULES), repo / "rules")
    shutil.copytree(APPLICANTS, repo / "applicants")
    path = repo / "rules" / os.path.basename(RULES)
    path.write_text(criteria_only(path.read_text(encoding="utf-8")), encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "rules")
    path.write_text(path.read_text(encoding="utf-8").replace('foreign_partner_dependency != "heavy"',
                                                              'foreign_partner_dependency == "none"'), encoding="utf-8")
    rel = f"rules/{os.path.basename(RULES)}"
    r = run_cli("diff", "--old", f"git:HEAD:{rel}", "--new", rel, "-f", "json", cwd=str(repo))
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["old"]["path"] == f"git:HEAD:{rel}"
    assert flipped(report) == {"sk-telecom": ("selected", "excluded")}
    # errors: an unknown revision, a missing path, a malformed spec, an option-like revision
    for spec, message in [(f"git:nosuchrev:{rel}", "cannot read from git"),
                          ("git:HEAD:rules/nope.yaml", "cannot read from git"),
                          ("git:HEAD", "expected git:REV:path"),
                          (f"git:--output=x:{rel}", "not a git revision")]:
        r = run_cli("diff", "--old", spec, "--new", rel, cwd=str(repo))
        assert r.returncode == 2, (spec, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"eligibility: error: {spec}: ") and message in lines[0], lines
        assert "Traceback" not in r.stderr
    # a broken rules file in history is reported at its git:REV:path location
    path.write_text("program: [\n", encoding="utf-8")
    git(repo, "commit", "-qam", "broken")
    r = run_cli("diff", "--old", f"git:HEAD:{rel}", "--new", f"git:HEAD~1:{rel}", cwd=str(repo))
    assert r.returncode == 2 and r.stderr.startswith(f"eligibility: error: git:HEAD:{rel}:")


def test_missing_inputs(run_cli):
    r = run_cli("diff", "--old", RULES, "--new", "rules/nope.yaml")
    assert r.returncode == 2 and "rules/nope.yaml: cannot read file" in r.stderr
    r = run_cli("diff", "--old", RULES, "--new", RULES, "applicants/nobody.yaml")
    assert r.returncode == 2 and "applicants/nobody.yaml: no such file or directory" in r.stderr


def test_api_compare_matches_cli(tmp_path):
    new = edited(tmp_path, 'condition: foreign_partner_dependency != "heavy"',
                 'condition: foreign_partner_dependency == "none"')
    old = os.path.join(tmp_path, "criteria-only.yaml")
    report = compare(load_rules_ref(old), load_rules_ref(new), profile_paths([APPLICANTS]))
    assert json.loads(json.dumps(report)) == report          # JSON-ready as is
    assert flipped(report) == {"sk-telecom": ("selected", "excluded")}


def test_diff_param_on_either_side(run_cli, tmp_path):
    """`diff --param` changes the new side (--old-param the old one); the change is attributed."""
    example = os.path.join(ROOT, "examples", "innovation-voucher")
    rules, profiles = os.path.join(example, "rules.yaml"), os.path.join(example, "applicants")
    r = run_cli("diff", profiles, "--rules", rules, "--param", "min_cofinancing=0.4", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    (change,) = report["rule_changes"]["parameters"]
    assert (change["old"], change["new"]) == (0.25, 0.4), change
    moved = {a["id"]: (a["old"]["verdict"], a["new"]["verdict"]) for a in report["applicants"]
             if a["old"]["verdict"] != a["new"]["verdict"]}
    # Alba is past the quota of 3 (Ibex scores the same and co-finances more)
    assert moved["alba"] == ("eligible-not-selected", "excluded") and moved["helix"] == ("selected", "excluded")
    back = json.loads(run_cli("diff", profiles, "--rules", rules, "--old-param", "min_cofinancing=0.4",
                               "--format", "json").stdout)
    assert {a["id"]: a["new"]["verdict"] for a in back["applicants"]}["alba"] == "eligible-not-selected"
    bad = run_cli("diff", profiles, "--rules", rules, "--param", "min_cofinancng=0.4")
    assert bad.returncode == 2 and "--param min_cofinancng: no such parameter (did you mean 'min_cofinancing'?)" \
        in bad.stderr and "Traceback" not in bad.stderr


def test_diff_set_facts_on_either_side(run_cli):
    """`diff --set` sets a fact of every applicant on the new side (--old-set on the old one); each
    move is attributed to the fact set, and a bad setting is one error line."""
    example = os.path.join(ROOT, "examples", "innovation-voucher")
    rules, profiles = os.path.join(example, "rules.yaml"), os.path.join(example, "applicants")
    r = run_cli("diff", profiles, "--rules", rules, "--set", "cofinancing_share=0.1", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["new"]["set"] == {"cofinancing_share": "0.1"} and "set" not in report["old"]
    alba = next(a for a in report["applicants"] if a["id"] == "alba")
    assert (alba["old"]["verdict"], alba["new"]["verdict"]) == ("eligible-not-selected", "excluded")
    (change,) = [f for f in alba["fact_changes"] if f["fact"] == "cofinancing_share"]
    assert change["set"] and (change["old"]["value"], change["new"]["value"]) == (0.35, 0.1)
    assert "cofinancing: met -> not_met (set: cofinancing_share 0.35 -> 0.1" in " ".join(alba["causes"])
    back = json.loads(run_cli("diff", profiles, "--rules", rules, "--old-set", "cofinancing_share=0.1",
                              "--format", "json").stdout)
    alba_back = next(a for a in back["applicants"] if a["id"] == "alba")
    assert (alba_back["old"]["verdict"], alba_back["new"]["verdict"]) == ("excluded", "eligible-not-selected")
    text = run_cli("diff", profiles, "--rules", rules, "--old-set", "team=3", "--set", "team=3").stdout
    assert "0 of 10 applicants change verdict" in text and "facts set on the old side for every applicant: team=3" in text
    bad = run_cli("diff", profiles, "--rules", rules, "--old-set", "cofinancing_share=7")
    assert bad.returncode == 2 and "--old-set: cofinancing_share=7: outside its range" in bad.stderr \
        and "Traceback" not in bad.stderr


def _fact(value, date, *published):
    return {"value": value, "known": value is not None, "date": date,
            "evidence": [{"kind": "press", "note": "n", "source": {"title": "t", "date": d}} for d in published]}


@pytest.mark.parametrize("then, now, new", [
    (_fact(None, None), _fact("none", "2025-08-04", "2025-08-05"), True),     # holds earlier, reported between
    (_fact(None, None), _fact(True, "2025-08-04", "2025-08-04"), False),      # on record on the first date already
    (_fact(1, "2025-06-01", "2025-06-01"), _fact(2, "2025-12-01", "2025-07-01"), False),  # announced before, holds later
    (_fact(None, None), _fact(True, "2026-01-15", "2026-01-15"), True),       # published between the dates
    (_fact(None, None), _fact(True, "2026-03-01", "2026-03-01"), False),      # published after the second date
])
def test_evidence_is_new_only_when_published_between_the_dates(then, now, new):
    [change] = fact_changes({"f": then}, {"f": now}, ("2025-08-04", "2026-01-15")).values()
    assert change["published_between"] is new


def test_diff_names_a_change_of_ranking_keys(run_cli, tmp_path):
    """Lowest co-financing first: the change is named, and Alba (0.35) moves ahead of Ibex (0.38) at the same score."""
    example = os.path.join(ROOT, "examples", "innovation-voucher")
    rules = os.path.join(example, "rules.yaml")
    text = open(rules, encoding="utf-8").read()
    new = tmp_path / "rules.yaml"
    new.write_text(text.replace("{key: cofinancing_share, order: desc}", "{key: cofinancing_share, order: asc}"),
                   encoding="utf-8")
    r = run_cli("diff", os.path.join(example, "applicants"), "--old", rules, "--new", str(new), "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["rule_changes"]["decision"] == [
        "ranked by score desc, cofinancing_share desc, name, id -> score desc, cofinancing_share asc, name, id"]
    ranks = {a["id"]: (a["old"]["rank"], a["new"]["rank"]) for a in report["applicants"]}
    assert ranks["helix"] == (2, 2) and ranks["alba"] == (4, 3) and ranks["ibex"] == (3, 4)
