"""Which files of a directory the commands read."""
from __future__ import annotations

import os

YAML_SUFFIXES = (".yaml", ".yml")
TEST_SUFFIXES = (".tests.yaml", ".tests.yml")


def yaml_files(directory: str, tests: bool | None = False) -> list[str]:
    """The YAML files directly in `directory`, sorted by name, hidden files left out.

    `tests`: False leaves rule test files (`*.tests.yaml`) out, True keeps only them, None keeps all."""
    out = []
    for name in sorted(os.listdir(directory)):
        if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
            continue
        if tests is None or name.endswith(TEST_SUFFIXES) == tests:
            out.append(os.path.join(directory, name))
    return out
