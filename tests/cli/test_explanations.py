"""Explanations a reader can trust: basis of each verdict and number, marks that mean help or hurt,
evidence in time, and sources inside the repository or at public addresses."""
import json
import os
import re

from helpers import ROOT

SHARED = re.compile(r"(?<![\w.])shared/|/work/shared")


def test_check_headline_says_the_exclusion_rests_on_a_press_reading(run_cli):
    r = run_cli("check", "applicants/kt.yaml", env={"COLUMNS": "400"})
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "[basis: reported, unofficial]" in text
    assert "excluded on a press reading (gate foreign_independence): the ministry published no per-team reasons" in text
    assert "points: calibration, not published; threshold: calibration, not published" in text


def test_json_record_flags_the_verdict_in_one_word(run_cli):
    rec = json.loads(run_cli("check", "applicants/kakao.yaml", "-f", "json").stdout)
    assert rec["basis"] == "reported" and rec["unofficial"] is True
    assert rec["basis_detail"]["points"] == "calibration" and rec["basis_detail"]["threshold"] == "calibration"
    assert rec["basis_detail"]["secondhand_facts"] == ["foreign_partner_dependency"]
    crit = {c["id"]: c for c in rec["criteria"]}
    assert crit["foreign_independence"]["basis"]["kind"] == "reported"
    assert crit["multimodal"]["points_basis"]["kind"] == "calibration"


def test_a_fact_that_supports_its_gate_under_not_is_marked_as_support(run_cli):
    out = run_cli("check", "applicants/kt.yaml").stdout
    [line] = [l for l in out.splitlines() if "initialised from foreign weights" in l]
    assert "✔ not initialised from foreign weights: it is false" in line and "✘" not in line
    # the offending fact of a failed gate is marked against it
    [line] = [l for l in out.splitlines() if "foreign partner dependency" in l]
    assert "✘ foreign partner dependency not \"heavy\": it is heavy" in line


def test_a_true_fact_under_a_failed_not_is_marked_against_the_criterion(run_cli):
    r = run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2026-01-15", "-f", "markdown")
    assert r.returncode == 0, r.stderr
    assert "- ✘ not uses frozen foreign weights: it is true `not uses_frozen_foreign_weights`" in r.stdout


def test_as_of_keeps_later_evidence_apart(run_cli):
    rec = json.loads(run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2025-08-04", "-f", "json").stdout)
    facts = rec["trace"]["facts"]
    assert all(e["source"]["date"] <= "2025-08-04" for f in facts.values() for e in f["evidence"])
    later = [e for f in facts.values() for e in f.get("later_evidence", [])]
    assert later and all(e["source"]["date"] > "2025-08-04" for e in later)
    text = run_cli("check", "applicants/naver-cloud.yaml", "--as-of", "2025-08-04", env={"COLUMNS": "400"}).stdout
    for line in text[text.index("Facts and evidence"):].splitlines():
        for date in re.findall(r"published (\d{4}-\d{2}-\d{2})", line):
            assert date <= "2025-08-04" or "published later" in line, line
    # the reason cites no evidence published after the date
    assert all(d <= "2025-08-04" for d in re.findall(r"\d{4}-\d{2}-\d{2}", rec["reason"]))


def test_as_of_a_value_reported_only_later_is_unknown(run_cli):
    """Naver's partner dependency holds from the decision day but was first reported on 5 August."""
    def naver(date):
        return json.loads(run_cli("check", "applicants/naver-cloud.yaml", "--as-of", date, "-f", "json").stdout)
    rec = naver("2025-08-04")
    fact = rec["trace"]["facts"]["foreign_partner_dependency"]
    assert fact["value"] is None and fact["evidence"] == []
    assert {e["source"]["date"] for e in fact["later_evidence"]} == {"2025-08-05"}
    # the ministry's decision of that day is on record: it settles what the criteria leave open
    assert rec["verdict"] == "selected" and rec["missing"] == []
    assert rec["reason"] == ("selected by the published decision (criterion 'ministry_selection'); by this project's "
                             "criteria alone it is undetermined: gate 'foreign_independence' is unknown; "
                             "missing: foreign_partner_dependency")
    rec = naver("2025-08-05")
    fact = rec["trace"]["facts"]["foreign_partner_dependency"]
    assert fact["value"] == "none" and fact["date"] == "2025-08-04"
    assert [e["source"]["date"] for e in fact["evidence"]] == ["2025-08-05", "2025-08-05"]


def test_no_shipped_file_or_output_cites_a_path_outside_the_repository(run_cli, tmp_path):
    for folder in ("rules", "applicants", "docs"):
        for base, _, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                path = os.path.join(base, name)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    assert not SHARED.search(fh.read()), path
    report = tmp_path / "r.html"
    outputs = [run_cli("check", f"applicants/{who}.yaml", "-f", fmt).stdout
               for who in ("kt", "naver-cloud") for fmt in ("text", "json", "markdown")]
    outputs += [run_cli("batch", "-f", fmt).stdout for fmt in ("text", "json", "csv", "markdown")]
    assert run_cli("report", "-o", str(report)).returncode == 0
    outputs.append(report.read_text(encoding="utf-8"))
    for out in outputs:
        assert out and not SHARED.search(out)
    # what the rules cite from the repository is in the repository
    assert os.path.isfile(os.path.join(ROOT, "docs", "sources", "seed-article.md"))


def test_date_diff_calls_evidence_new_only_when_published_between_the_dates(run_cli):
    report = json.loads(run_cli("diff", "--as-of", "2025-08-04", "--vs-as-of", "2026-01-15", "-f", "json").stdout)
    causes = [c for a in report["applicants"] for c in a["causes"]]
    assert not [c for c in causes if "new evidence: in_phase1" in c]            # published on 2025-08-04
    assert [c for c in causes if "not new evidence, holds from 2025-08-04: in_phase1" in c]
    assert [c for c in causes if "new evidence: uses_frozen_foreign_weights" in c]
