"""Replay verifies a record as a whole: an edit of any field it asserts is reported (issue 18, item 8)."""
import copy
import json
import os

import pytest

from helpers import APPLICANTS, ROOT, RULES

from eligibility.analysis.replay import replay_file


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A check record (with trace), a batch JSON Lines output and a batch JSON output, all from ROOT."""
    import subprocess
    from helpers import console_script
    d = tmp_path_factory.mktemp("saved")
    out = {}
    for name, args in (("check.json", ["check", os.path.join("applicants", "kt.yaml"), "-f", "json"]),
                       ("batch.jsonl", ["batch", "applicants", "-f", "jsonl"]),
                       ("batch.json", ["batch", "applicants", "-f", "json"])):
        path = str(d / name)
        subprocess.run([console_script(), *args, "--rules", os.path.relpath(RULES, ROOT), "-o", path], cwd=ROOT,
                       check=False, capture_output=True)
        out[name] = path
    return out


def _replay(tmp_path, monkeypatch, text):
    path = tmp_path / "edited"
    path.write_text(text)
    monkeypatch.chdir(ROOT)
    return replay_file(str(path))


def _fields(report):
    return {d.field for r in report.results for d in r.differences}


CHECK_EDITS = {
    "threshold": (lambda r: r.__setitem__("threshold", 40), "threshold"),
    "score_max": (lambda r: r.__setitem__("score_max", 99), "score_max"),
    "name": (lambda r: r["applicant"].__setitem__("name", "Someone"), "applicant.name"),
    "parameters": (lambda r: r["parameters"].__setitem__(sorted(r["parameters"])[0], 12345), None),
    "trace outcome": (lambda r: r["trace"]["criteria"][0].__setitem__("outcome", "unknown"), "trace.criteria[0].outcome"),
    "criterion points": (lambda r: r["criteria"][-1].__setitem__("points", 1), None),
    "added field": (lambda r: r.__setitem__("approved_by", "me"), "approved_by"),
    "deleted field": (lambda r: r.pop("score_max"), "score_max"),
}


@pytest.mark.parametrize("edit", sorted(CHECK_EDITS))
def test_an_edited_check_record_is_reported(saved, tmp_path, monkeypatch, edit):
    rec = json.load(open(saved["check.json"]))
    assert _replay(tmp_path, monkeypatch, json.dumps(rec)).identical
    change, field = CHECK_EDITS[edit]
    edited = copy.deepcopy(rec)
    change(edited)
    report = _replay(tmp_path, monkeypatch, json.dumps(edited))
    assert not report.identical
    if field:
        assert field in _fields(report)


def _jsonl(path):
    return [json.loads(line) for line in open(path)]


def _write_jsonl(docs):
    return "".join(json.dumps(d) + "\n" for d in docs)


BATCH_EDITS = {
    "swapped ranks": lambda docs: docs[-1]["ranking"].__setitem__(slice(0, 2), docs[-1]["ranking"][1::-1]),
    "final verdict": lambda docs: docs[-1]["ranking"][0].__setitem__("final_verdict", "eligible-not-selected"),
    "quota": lambda docs: docs[-1]["decision"].__setitem__("quota", 2),
    "counts": lambda docs: docs[-1]["summary"].__setitem__("excluded", 0),
    "deleted applicant line": lambda docs: docs.pop(0),
    "deleted summary line": lambda docs: docs.pop(),
    "program title": lambda docs: docs[-1]["program"].__setitem__("title", "Another"),
}


@pytest.mark.parametrize("edit", sorted(BATCH_EDITS))
def test_an_edited_batch_jsonl_output_is_reported(saved, tmp_path, monkeypatch, edit):
    docs = _jsonl(saved["batch.jsonl"])
    assert _replay(tmp_path, monkeypatch, _write_jsonl(docs)).identical
    BATCH_EDITS[edit](docs)
    report = _replay(tmp_path, monkeypatch, _write_jsonl(docs))
    assert not report.identical
    assert any(r.applicant == "(batch)" for r in report.results)


@pytest.mark.parametrize("edit", ["quota", "counts", "rank", "record"])
def test_an_edited_batch_json_output_is_reported(saved, tmp_path, monkeypatch, edit):
    doc = json.load(open(saved["batch.json"]))
    assert _replay(tmp_path, monkeypatch, json.dumps(doc)).identical
    if edit == "quota":
        doc["decision"]["quota"] = 1
    elif edit == "counts":
        doc["summary"]["inputs"] += 1
    elif edit == "rank":
        doc["applicants"][0]["rank"] = 3
    else:
        doc["applicants"][0]["trace"]["facts"] = {}
    assert not _replay(tmp_path, monkeypatch, json.dumps(doc)).identical
