"""`eligibility test`: the shipped suite passes with full coverage; removing a case lowers it;
a wrong expected reason fails with expected vs actual and the trace of the differing criterion."""
import json
import os
import re

from helpers import ROOT

SUITE = os.path.join(ROOT, "rules", "sovereign-ai-2025.tests.yaml")


def _copy(tmp_path, text):
    """A copy of the suite beside copies of nothing: paths in it are made absolute."""
    text = text.replace("rules: sovereign-ai-2025.yaml", f"rules: {os.path.join(ROOT, 'rules', 'sovereign-ai-2025.yaml')}")
    text = text.replace("../applicants/", os.path.join(ROOT, "applicants") + "/")
    path = tmp_path / "copy.tests.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_shipped_suite_passes(run_cli):
    r = run_cli("test", "--format", "json", "--min-coverage", "100")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["failed"] == 0 and out["passed"] == len(out["cases"]) >= 15
    assert out["coverage"] == {"percent": 100.0, "untested": []}
    real = {c["name"].split(" is ")[0]: c["verdict"] for c in out["cases"][:7]}
    assert real == {"KT": "excluded", "Kakao": "excluded", "LG AI Research": "selected",
                    "Naver Cloud": "selected", "NC AI": "selected", "SK Telecom": "selected", "Upstage": "selected"}
    text = run_cli("test", "--coverage")
    assert text.returncode == 0 and "coverage 100.0%" in text.stdout


def test_deleting_a_case_lowers_coverage_and_names_what_is_untested(run_cli, tmp_path):
    text = open(SUITE, encoding="utf-8").read()
    start = text.index("  - name: A fine-tune of a foreign model")
    end = text.index("  - name: Gates met but too few points")
    path = _copy(tmp_path, text[:start] + text[end:])
    r = run_cli("test", path, "--format", "json")
    assert r.returncode == 0, r.stdout
    cov = json.loads(r.stdout)["coverage"]
    assert cov["percent"] < 100
    untested = {(u["owner"], u["text"]): u for u in cov["untested"]}
    # only that case made the autonomy gate fail and each of its tests false
    assert untested[("criterion 'autonomy'", "autonomous_stack")]["missing"] == ["not_met"]
    leaf = untested[("concept 'autonomous_stack'", "in_house_architecture")]
    assert leaf["missing"] == ["false"]
    rules_lines = open(os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml"), encoding="utf-8").read().splitlines()
    assert rules_lines[leaf["line"] - 1][leaf["col"] - 1:].startswith("in_house_architecture")
    # --coverage lists them as file:line:col, and --min-coverage fails
    r = run_cli("test", path, "--coverage", "--min-coverage", "100")
    assert r.returncode == 1
    assert re.search(r"sovereign-ai-2025\.yaml:\d+:\d+: concept 'autonomous_stack' test "
                     r"'in_house_architecture' never false", r.stdout), r.stdout


def test_wrong_expected_reason_fails_with_expected_vs_actual(run_cli, tmp_path):
    text = open(SUITE, encoding="utf-8").read()
    wrong = text.replace("      gates_failed: [foreign_independence]\n      reason: foreign_partner_dependency is \"heavy\"\n"
                         "      criteria: {autonomy: met, foreign_independence: not_met, multimodal: unknown,",
                         "      gates_failed: [autonomy]\n      reason: foreign_partner_dependency is \"heavy\"\n"
                         "      criteria: {autonomy: not_met, foreign_independence: not_met, multimodal: unknown,", 1)
    assert wrong != text
    path = _copy(tmp_path, wrong)
    r = run_cli("test", path, "--format", "json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["failed"] == 1
    [case] = [c for c in out["cases"] if not c["passed"]]
    assert case["name"].startswith("KT")
    assert {m["field"]: (m["expected"], m["actual"]) for m in case["mismatches"]} == {
        "gates_failed": (["autonomy"], ["foreign_independence"]),
        "criteria.autonomy": ("not_met", "met")}
    r = run_cli("test", path)
    assert r.returncode == 1
    assert "FAIL" in r.stdout and "1 failed" in r.stdout
    row = next(l for l in r.stdout.splitlines() if "criteria.autonomy" in l)
    assert row.split()[1:] == ["not_met", "met"]                 # expected | actual side by side
    # the trace of the differing criterion: its description in words, then the condition as written
    assert "autonomy: The model must be the consortium's own" in r.stdout and "[autonomous_stack]" in r.stdout
    assert "in house architecture: it is true  [in_house_architecture == true]" in r.stdout


def test_bad_test_file_is_reported_with_position(run_cli, tmp_path):
    path = tmp_path / "bad.tests.yaml"
    path.write_text(f"rules: {os.path.join(ROOT, 'rules', 'sovereign-ai-2025.yaml')}\ncases:\n"
                    "  - name: x\n    facts: {}\n    expect: {verdict: chosen, scor: 3}\n", encoding="utf-8")
    r = run_cli("test", str(path))
    assert r.returncode == 2
    assert f"{path}:5:31: case 'x' expect: unknown key 'scor' (did you mean 'score'?)" in r.stderr
    assert f"{path}:5:23: case 'x' expect: verdict must be one of" in r.stderr
