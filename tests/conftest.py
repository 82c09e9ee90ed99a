import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "rules", "sovereign-ai-2025.yaml")
APPLICANTS = os.path.join(ROOT, "applicants")
DATA = os.path.join(ROOT, "tests", "data")
VERSIONS = os.path.join(ROOT, "rules", "sovereign-ai-2025")     # later rule versions RULES lists


def with_versions(directory) -> None:
    """Copy the later rule versions that RULES lists next to a copy of RULES written in `directory`."""
    shutil.copytree(VERSIONS, os.path.join(str(directory), "sovereign-ai-2025"), dirs_exist_ok=True)


def console_script() -> str:
    """The installed `eligibility` script (next to this interpreter, else on PATH)."""
    here = os.path.join(os.path.dirname(sys.executable), "eligibility")
    return here if os.path.exists(here) else (shutil.which("eligibility") or "eligibility")


@pytest.fixture
def run_cli():
    def run(*args, cwd=ROOT, input=None, env=None):
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
        return subprocess.run([console_script(), *args], cwd=cwd, input=input, capture_output=True,
                              text=True, env=full_env, timeout=120)
    return run
