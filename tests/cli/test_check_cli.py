"""`eligibility check` end to end through the installed console script."""
import json
import os
import re

import pytest

from helpers import APPLICANTS, UNDECIDED

SELECTED = ["naver-cloud", "upstage", "sk-telecom", "nc-ai", "lg-ai-research"]
EXCLUDED = ["kt", "kakao"]


@pytest.mark.parametrize("name", SELECTED + EXCLUDED)
def test_real_verdicts_json(run_cli, name):
    r = run_cli("check", f"applicants/{name}.yaml", "--format", "json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["schema"] == "eligibility.evaluation/1"
    assert rec["verdict"] == ("selected" if name in SELECTED else "excluded")
    assert rec["applicant"]["id"] == name
    crit = {c["id"]: c for c in rec["trace"]["criteria"]}
    assert set(crit) == {c["id"] for c in rec["criteria"]}
    assert crit["autonomy"]["tree"]["kind"] == "concept"
    if name in EXCLUDED:
        assert rec["gates_failed"] == ["foreign_independence"]
        assert "foreign_partner_dependency" in rec["reason"] and '"heavy"' in rec["reason"]
        leaf = crit["foreign_independence"]["tree"]
        assert (leaf["fact"], leaf["actual"], leaf["outcome"]) == ("foreign_partner_dependency", "heavy", "false")
        assert rec["trace"]["facts"]["foreign_partner_dependency"]["evidence"], "evidence is in the trace"
    # every firing names a rule and the facts it matched: the profile fields its tests read
    # (the shipped rules compile flat, docs/engine.md: no rule reads another's derived fact)
    firings = rec["trace"]["firings"]
    assert firings and all(f["rule"] and f["matched"] for f in firings)
    matched = [m for f in firings for m in f["matched"].values()]
    assert all("profile" in m or "sentinel" in m for m in matched)
    dep = [m["profile"]["foreign_partner_dependency"] for m in matched
           if "profile" in m and "foreign_partner_dependency" in m["profile"]]
    assert dep and set(dep) == {"heavy" if name in EXCLUDED else
                                rec["trace"]["facts"]["foreign_partner_dependency"]["value"]}
    # the rule settling each decided criterion fired: its name starts with the criterion's node id
    fired = {f["rule"].split("#")[0] for f in firings}
    decided = [c["tree"] for c in rec["trace"]["criteria"]
               if c["tree"]["outcome"] != "unknown" and c["tree"]["kind"] in ("and", "or", "test", "compare")]
    assert decided
    for tree in decided:
        assert f'{tree["node"]}{"+" if tree["outcome"] == "true" else "-"}' in fired, tree["text"]


def test_text_output_names_reason_and_evidence(run_cli):
    r = run_cli("check", "applicants/kt.yaml")
    assert r.returncode == 0, r.stderr
    assert "EXCLUDED" in r.stdout and "foreign_independence" in r.stdout
    assert "NewDaily" in r.stdout          # evidence shown
    assert "\x1b[" not in r.stdout         # plain text when not a terminal


def test_markdown_output(run_cli):
    r = run_cli("check", "applicants/naver-cloud.yaml", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Naver Cloud: **selected**")
    rows = [l for l in r.stdout.splitlines() if l.startswith("| ") and "---" not in l]
    assert len(rows) == 1 + 7                      # header + one row per criterion


def test_missing_fact_gives_undetermined(run_cli, tmp_path):
    text = open(os.path.join(APPLICANTS, "naver-cloud.yaml"), encoding="utf-8").read()
    # drop the pretrained_from_scratch block: the autonomy gate can no longer be decided
    pruned = re.sub(r"\n  pretrained_from_scratch:\n(    .*\n|      .*\n)+", "\n", text)
    assert "pretrained_from_scratch" not in pruned
    path = tmp_path / "naver-no-scratch.yaml"
    path.write_text(pruned, encoding="utf-8")
    # the ministry's published decision settles it: nothing missing can change the verdict
    decided = json.loads(run_cli("check", str(path), "--format", "json").stdout)
    assert decided["verdict"] == "selected" and decided["missing"] == []
    assert "by this project's criteria alone it is undetermined: gate 'autonomy' is unknown" in decided["reason"]
    r = run_cli("check", str(path), "--format", "json", *UNDECIDED)
    rec = json.loads(r.stdout)
    assert rec["verdict"] == "undetermined"
    assert rec["missing"] == ["pretrained_from_scratch"]
    assert "pretrained_from_scratch" in rec["reason"]
    assert {c["id"]: c["outcome"] for c in rec["criteria"]}["autonomy"] == "unknown"


def test_fail_on_and_engines(run_cli):
    assert run_cli("check", "applicants/kt.yaml", "--fail-on", "excluded,undetermined").returncode == 1
    assert run_cli("check", "applicants/upstage.yaml", "--fail-on", "excluded").returncode == 0
    for engine in ("python", "both"):
        r = run_cli("check", "applicants/kakao.yaml", "--engine", engine, "--format", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["verdict"] == "excluded"


@pytest.mark.parametrize("old, new, message", [
    ('foreign_partner_dependency != "heavy"', 'foriegn_partner_dependency != "heavy"',
     "unknown fact 'foriegn_partner_dependency' (did you mean 'foreign_partner_dependency'?)"),
    ('foreign_partner_dependency != "heavy"', 'foreign_partner_dependency === "heavy"', "syntax error"),
    ("model_generations >= min_generations", 'model_generations >= "two"', "type mismatch"),
    ("condition: open_weights_released", "condition: __import__('os').system('id')", "not allowed"),
])
def test_bad_rules_give_one_located_line(run_cli, tmp_path, old, new, message):
    from helpers import RULES, with_versions
    text = open(RULES, encoding="utf-8").read().replace(old, new)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with_versions(tmp_path)
    r = run_cli("check", "applicants/kt.yaml", "--rules", str(bad))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.match(rf"eligibility: error: {re.escape(str(bad))}:\d+:\d+: .*{re.escape(message)}", lines[0]), lines[0]


def test_bad_profile_and_debug(run_cli, tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("id: x\nname: X\nfacts:\n  model_generations:\n    value: lots\n    evidence: []\n", encoding="utf-8")
    r = run_cli("check", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{bad}:5:12: fact 'model_generations'" in r.stderr
    r = run_cli("--debug", "check", str(bad))
    assert "Traceback" in r.stderr


def test_missing_file(run_cli):
    r = run_cli("check", "applicants/nope.yaml")
    assert r.returncode == 2 and "applicants/nope.yaml: cannot read file" in r.stderr


def test_check_tables_fit_80_columns_without_cutting_a_fact_name(run_cli):
    from rich.cells import cell_len
    for who in ("kt", "naver-cloud"):
        r = run_cli("check", f"applicants/{who}.yaml", env={"COLUMNS": "80"})
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert max(cell_len(line) for line in lines) <= 80
        tables = r.stdout[r.stdout.index("Criteria"):r.stdout.index("Trace")] + \
            r.stdout[r.stdout.index("Facts and evidence"):]
        words = set(tables.split())
        rec = json.loads(run_cli("check", f"applicants/{who}.yaml", "-f", "json").stdout)
        for name in rec["trace"]["facts"]:
            assert name in words, name                      # whole on one line, never folded
        for c in rec["criteria"]:
            assert c["id"] in words, c["id"]
