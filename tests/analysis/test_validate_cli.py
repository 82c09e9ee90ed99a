"""`eligibility validate`: clean on the shipped files; every problem of broken copies in one run."""
import json
import os
import re

from helpers import APPLICANTS, RULES, with_versions


def _lines(path):
    return open(path, encoding="utf-8").read().splitlines()


def _line_of(lines, needle, start=0):
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def test_shipped_files_are_clean(run_cli):
    r = run_cli("validate", "rules/", "applicants/", "--format", "json", "--strict")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == []
    r = run_cli("validate")                     # defaults: rules/ and applicants/
    assert r.returncode == 0 and "0 error(s), 0 warning(s) in 8 file(s)" in r.stderr


def _broken_copies(tmp_path):
    """Five broken copies, each with one known defect; returns {defect: (path, line, col)}."""
    text = open(RULES, encoding="utf-8").read()
    where = {}

    def rules_copy(name, old, new, needle):
        assert old in text
        path = tmp_path / f"{name}.yaml"
        changed = text.replace(old, new, 1)
        path.write_text(changed, encoding="utf-8")
        with_versions(tmp_path)
        lines = changed.splitlines()
        line = _line_of(lines, needle)
        where[name] = (str(path), line, lines[line - 1].index(needle.split(":")[-1].strip()) + 1)

    rules_copy("fact_typo", "condition: open_weights_released", "condition: open_weight_released",
               "condition: open_weight_released")
    rules_copy("type_mismatch", 'foreign_partner_dependency != "heavy"', "foreign_partner_dependency != 3",
               "condition: foreign_partner_dependency != 3")
    rules_copy("impossible", "condition: model_generations >= min_generations",
               "condition: model_generations >= min_generations and model_generations < 1",
               "condition: model_generations >= min_generations and model_generations < 1")
    dup = text.replace("  - id: open_source\n", "  - id: multimodal\n", 1)
    path = tmp_path / "duplicate.yaml"
    path.write_text(dup, encoding="utf-8")
    lines = dup.splitlines()
    ids = [i + 1 for i, line in enumerate(lines) if line == "  - id: multimodal"]
    assert len(ids) == 2
    second = ids[1]
    where["duplicate"] = (str(path), second, 9)
    # the type-mismatch column points at the value 3, the typo at the fact name
    p, line, _ = where["type_mismatch"]
    where["type_mismatch"] = (p, line, _lines(p)[line - 1].index("3") + 1)
    profile = open(os.path.join(APPLICANTS, "kt.yaml"), encoding="utf-8").read()
    pruned = re.sub(r"(\n  commercial_deployment:\n    value: \w+\n)    evidence:\n(      .*\n)+", r"\1", profile)
    assert pruned != profile
    path = tmp_path / "kt-no-evidence.yaml"
    path.write_text(pruned, encoding="utf-8")
    lines = pruned.splitlines()
    line = _line_of(lines, "  commercial_deployment:") + 1
    where["no_evidence"] = (str(path), line, 5)
    return where


def test_five_broken_copies_in_one_run(run_cli, tmp_path):
    where = _broken_copies(tmp_path)
    files = [p for p, _, _ in where.values()]
    r = run_cli("validate", *files, "--format", "json")
    assert r.returncode == 2, r.stdout + r.stderr
    problems = json.loads(r.stdout)
    errors = [p for p in problems if p["severity"] == "error"]
    for name, (path, line, col) in where.items():
        mine = [p for p in errors if p["path"] == path]
        assert mine and (mine[0]["line"], mine[0]["col"]) == (line, col), (name, mine)
        # one problem per copy; the impossible concept also makes its criterion never met
        assert len(mine) == (2 if name == "impossible" else 1), (name, mine)
    by = {name: next(p["message"] for p in errors if p["path"] == where[name][0]) for name in where}
    assert "criterion 'development_experience'" in [p for p in errors if p["path"] == where["impossible"][0]][1]["message"]
    assert "did you mean 'open_weights_released'" in by["fact_typo"]
    assert "type mismatch" in by["type_mismatch"]
    assert "never true" in by["impossible"]
    assert "duplicate criterion id 'multimodal'" in by["duplicate"]
    assert "no evidence" in by["no_evidence"]
    # the text format gives the same problems as file:line:col lines
    text = run_cli("validate", *files)
    assert text.returncode == 2
    for path, line, col in where.values():
        assert f"{path}:{line}:{col}: " in text.stdout


def test_all_defects_of_one_file_at_once(run_cli, tmp_path):
    text = open(RULES, encoding="utf-8").read()
    text = text.replace("condition: open_weights_released", "condition: open_weight_released")
    text = text.replace('"heavy"', "3").replace("  - id: open_source\n", "  - id: multimodal\n")
    text = text.replace("condition: commercial_use_allowed or commercial_deployment",
                        "condition: commercial_deployment and not commercial_deployment")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with_versions(tmp_path)
    r = run_cli("validate", str(path), "applicants/kt.yaml", "--format", "json")
    assert r.returncode == 2
    errors = [p["message"] for p in json.loads(r.stdout) if p["severity"] == "error"]
    assert len(errors) == 4, errors
    # the profile is still checked, against ./rules (same program), and is clean
    assert not [p for p in json.loads(r.stdout) if p["path"] == "applicants/kt.yaml"]


def test_warnings_and_strict(run_cli, tmp_path):
    text = open(RULES, encoding="utf-8").read()
    text = text.replace("  quota:\n", "  spare_limit: {value: 3, basis: calibration}\n  quota:\n", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with_versions(tmp_path)
    r = run_cli("validate", str(path), "--format", "json")
    assert r.returncode == 0
    [warning] = json.loads(r.stdout)
    assert warning["severity"] == "warning" and "spare_limit" in warning["message"]
    assert warning["line"] == _line_of(text.splitlines(), "spare_limit")
    assert run_cli("validate", str(path), "--strict").returncode == 1


def test_profile_unknown_fact_suggests_name(run_cli, tmp_path):
    text = open(os.path.join(APPLICANTS, "kt.yaml"), encoding="utf-8").read()
    path = tmp_path / "kt.yaml"
    path.write_text(text.replace("  model_generations:", "  model_generation:"), encoding="utf-8")
    r = run_cli("validate", "rules/", str(path))
    assert r.returncode == 2
    assert "unknown fact 'model_generation' (did you mean 'model_generations'?)" in r.stdout


def test_basis_is_checked_with_position_and_suggestion(run_cli, tmp_path):
    text = open(RULES, encoding="utf-8").read()
    assert "    basis:\n      kind: reported\n" in text
    text = text.replace("    basis:\n      kind: reported\n", "    basis:\n      kind: reportd\n", 1)
    text = text.replace("    points_basis: calibration\n", "", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with_versions(tmp_path)
    r = run_cli("validate", str(path), "--format", "json")
    problems = json.loads(r.stdout)
    [error] = [p for p in problems if p["severity"] == "error"]
    assert "unknown basis 'reportd'" in error["message"] and "did you mean 'reported'" in error["message"]
    assert error["line"] == _line_of(text.splitlines(), "kind: reportd") and error["col"] == 13
    assert any("no 'points_basis'" in p["message"] for p in problems if p["severity"] == "warning")
    assert r.returncode == 2


def test_source_newer_than_the_rule_version_is_flagged(run_cli, tmp_path):
    text = open(RULES, encoding="utf-8").read()
    text = text.replace("      date: 2025-08-06\n      reports: 2025-08-04\n", "      date: 2026-01-15\n", 1)
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with_versions(tmp_path)
    r = run_cli("validate", str(path), "--format", "json")
    warnings = [p["message"] for p in json.loads(r.stdout) if p["severity"] == "warning"]
    assert any("source 'kukinews-briefing' dates from 2026-01-15, after this rule version took effect "
               "(2025-08-04)" in w for w in warnings), warnings


def test_every_shipped_rule_and_number_states_its_basis(run_cli):
    """`--strict` fails on a warning, such as a criterion or parameter without a basis."""
    for folder in (["rules", "applicants"], ["examples/innovation-voucher"]):
        r = run_cli("validate", "--strict", *folder)
        assert r.returncode == 0, r.stdout + r.stderr
