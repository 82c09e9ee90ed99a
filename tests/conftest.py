import os
import subprocess

import pytest

from helpers import ROOT, console_script


@pytest.fixture
def run_cli():
    def run(*args, cwd=ROOT, input=None, env=None):
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
        return subprocess.run([console_script(), *args], cwd=cwd, input=input, capture_output=True,
                              text=True, env=full_env, timeout=120)
    return run
