"""Hostile files mixed into a batch: every good profile gets its result, every bad file is named.

Enabled automatically once `eligibility batch` exists on the branch (it is written on another branch)."""
import subprocess

import pytest

from conftest import APPLICANTS, RULES, console_script
from hostile_corpus import corpus, write

import glob
import os


def _has_batch() -> bool:
    try:
        return subprocess.run([console_script(), "batch", "--help"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _has_batch(), reason="batch command not on this branch")


def test_batch_with_hostile_files_keeps_every_good_result(run_cli, tmp_path):
    bad = write(str(tmp_path / "bad"), corpus(open(RULES, encoding="utf-8").read()))
    good = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    result = run_cli("batch", *good, *bad.values(), "--rules", RULES)
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    for path in bad.values():
        assert path in result.stderr or os.path.basename(path) in out, path
    for path in good:
        assert os.path.splitext(os.path.basename(path))[0] in result.stdout, path
