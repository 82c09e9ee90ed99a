"""Hostile files mixed into a batch: every good profile gets its result, every bad file is named
with its position, and the summary accounts for every input (skipped where `batch` does not exist)."""
import glob
import json
import os

import pytest

from helpers import APPLICANTS, RULES
from hostile_corpus import corpus, write


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_with_hostile_files_keeps_every_good_result(run_cli, tmp_path, jobs):
    entries = corpus(open(RULES, encoding="utf-8").read())
    entries.pop("rules_file.yaml")
    bad = write(str(tmp_path / "bad"), entries)
    good = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    inputs = [p for pair in zip(good, list(bad.values())) for p in pair] + list(bad.values())[len(good):]
    result = run_cli("batch", *inputs, "--rules", RULES, "--format", "json", "--jobs", jobs)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["summary"]["inputs"] == len(inputs) == report["summary"]["evaluated"] + report["summary"]["errors"]
    assert sorted(a["applicant"]["path"] for a in report["applicants"]) == good
    errors = {e["path"]: e for e in report["errors"]}
    assert sorted(errors) == sorted(bad.values())
    for name, path in bad.items():
        _, fragment, where = entries[name]
        assert fragment in errors[path]["message"] or "nest" in errors[path]["message"], (name, errors[path])
        if where:
            assert errors[path]["line"] == where[0], (name, errors[path])
