"""Dated parameter values: `--as-of` picks the value in force, `--param` still overrides, the record
says which value was used and its basis, and a history out of date order is refused where it is."""
import json
import os

import pytest

from eligibility import api

from helpers import DATA

RULES = os.path.join(DATA, "dated_params.yaml")
ADA = os.path.join(DATA, "dated_profiles", "ada.yaml")


@pytest.mark.parametrize("as_of, pass_mark, bonus", [
    ("2025-01-01", 50, 10), ("2025-06-30", 50, 10), ("2025-07-01", 50, 20), ("2026-01-14", 50, 20),
    ("2026-01-15", 60, 20), ("2030-01-01", 60, 20)])
def test_as_of_picks_the_value_in_force(as_of, pass_mark, bonus):
    program = api.load_rules(RULES, as_of=as_of)
    assert program.parameters["pass_mark"].value == pass_mark
    assert program.parameters["bonus"].value == bonus
    assert program.decision.quota == 2


def test_without_a_date_the_file_gives_each_latest_value():
    program = api.load_rules(RULES)
    assert (program.parameters["pass_mark"].value, program.parameters["bonus"].value) == (60, 20)


def test_the_verdict_follows_the_value_in_force():
    assert api.check(ADA, RULES, as_of="2025-12-31").verdict == "selected"      # 55 >= 50
    late = api.check(ADA, RULES, as_of="2026-01-15")
    assert late.verdict == "excluded" and late.gates_failed == ["pass"]        # 55 < 60


def test_the_basis_is_the_dated_values_own():
    early, late = (api.load_rules(RULES, as_of=d).parameters["pass_mark"] for d in ("2025-02-01", "2026-02-01"))
    assert (early.basis.kind, early.effective) == ("calibration", "2025-01-01")
    assert (late.basis.kind, late.basis.note, late.effective) == ("official", "raised by the January notice",
                                                                   "2026-01-15")
    # a value without a basis of its own takes the parameter's
    assert api.load_rules(RULES, as_of="2025-02-01").parameters["bonus"].basis.kind == "calibration"


def test_param_still_overrides_and_the_record_names_the_dated_value(run_cli):
    r = run_cli("check", ADA, "--rules", RULES, "--as-of", "2026-02-01", "--param", "pass_mark=40", "-f", "json")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["verdict"] == "selected"
    assert rec["parameter_overrides"]["pass_mark"] == {"value": 40, "rules_value": 60}
    dated = rec["trace"]["dated_parameters"]
    assert dated["pass_mark"] == {"value": 40, "effective": "2026-01-15", "rules_value": 60,
                                  "basis": {"kind": "official", "note": "raised by the January notice"}}
    assert dated["bonus"] == {"value": 20, "effective": "2025-07-01", "basis": {"kind": "calibration", "note": None}}


def test_the_text_output_shows_the_value_used_with_its_date_and_basis(run_cli):
    r = run_cli("check", ADA, "--rules", RULES, "--as-of", "2025-03-01")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "parameter pass_mark = 50: the value in force from 2025-01-01 (calibration)" in text
    assert "parameter bonus = 10: the value in force from 2025-01-01 (calibration)" in text


def test_no_value_in_force_before_the_first_date(tmp_path):
    text = open(RULES).read().replace("effective: 2025-01-01\n  sources", "effective: 2024-01-01\n  sources")
    path = tmp_path / "early.yaml"
    path.write_text(text)
    with pytest.raises(api.InputError, match="parameter 'pass_mark' has no value in force on 2024-06-01: its first "
                                             "takes effect on 2025-01-01"):
        api.load_rules(str(path), as_of="2024-06-01")


def _line_col(text, needle, nth=0):
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - text.rfind("\n", 0, at)


@pytest.mark.parametrize("new, message", [
    ("2024-12-31", "effective date 2024-12-31 must come after 2025-01-01 (dates in order)"),
    ("2025-01-01", "effective date 2025-01-01 is given twice")])
def test_unsorted_or_duplicate_dates_are_refused_at_line_and_column(run_cli, tmp_path, new, message):
    text = open(RULES).read().replace("{effective: 2026-01-15", "{effective: " + new)
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    line, col = _line_col(text, new, nth=0 if new != "2025-01-01" else 2)
    r = run_cli("validate", str(path))
    assert r.returncode == 2
    assert f"{path}:{line}:{col}: parameter 'pass_mark': {message}" in r.stdout + r.stderr
    r = run_cli("check", ADA, "--rules", str(path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"eligibility: error: {path}:{line}:{col}: parameter 'pass_mark': {message}"]


@pytest.mark.parametrize("spec, message", [
    ("values: []", "'values' must be a list of {effective, value, basis}"),
    ("value: 3\n    values: [{effective: 2025-01-01, value: 3}]", "give 'value', or 'values'"),
    ("values: [{effective: 2025-01-01}]", "dated value: missing 'value'"),
    ("values: [{effective: 2025-01-01, value: many}]", "is not of type int")])
def test_malformed_histories_are_refused(tmp_path, spec, message):
    text = open(RULES).read()
    start = text.index("    values:\n      - {effective: 2025-01-01, value: 10}")
    end = text.index("  quota:")
    path = tmp_path / "bad.yaml"
    path.write_text(text[:start] + "    " + spec + "\n" + text[end:])
    with pytest.raises(api.InputError, match=message.replace("{", r"\{").replace("}", r"\}")):
        api.load_rules(str(path))
