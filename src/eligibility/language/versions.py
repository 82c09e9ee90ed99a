"""Which version of a programme's rules is in force on a date, and which value of each dated
parameter: the one place that reads `program.effective`, `program.versions` and parameters'
effective dates to choose (every command's `--as-of` comes here)."""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from eligibility.core.errors import InputError, Problem
from eligibility.core.paths import yaml_files
from eligibility.language.model import Program, ProgramVersion
from eligibility.language.rules import OVERRIDE_LABEL, load_program
from eligibility.language.sources import RulesSource, source_for

DEFAULT_RULES_DIR = "rules"


def load_rules(path: str, params: Mapping[str, Any] | None = None, as_of: str | None = None,
               source: RulesSource | None = None, params_label: str = OVERRIDE_LABEL) -> Program:
    """Load and type-check a rules file; `params` overrides parameter values for one run.

    Without `as_of`, the file is used as written (a dated parameter at its latest value). With
    `as_of` (ISO date), the version of the program in force on that date: the file itself from its
    `program.effective` date, or the latest of its `program.versions` that took effect on or before
    `as_of`; and each dated parameter at its value in force on that date (`--param` still overrides). `source` reads the
    files (default: git history for `git:REV:path`, else the disk)."""
    source = source or source_for(path)

    def load(p: str, prm: Mapping[str, Any] | None, dated: bool = True) -> Program:
        return load_program(p, prm, source=source, params_label=params_label,
                            as_of=(as_of, value_in_force) if as_of and dated else None)

    if as_of is None:
        return load(path, params)
    main = load(path, None, dated=False)
    chosen = version_in_force(main, as_of)
    if chosen is None:
        return load(path, params)
    program = load(chosen.path, params)
    program.family_facts = main.family_facts
    program.main_path, program.main_sha256 = main.path, main.sha256
    return program


def version_in_force(main: Program, as_of: str) -> ProgramVersion | None:
    """The later version in force on `as_of`, or None for the main file itself; InputError before the first."""
    if main.effective and as_of < main.effective:
        raise InputError(Problem(main.path, 0, 0, f"no version of program '{main.id}' is in force on {as_of}: "
                                                  f"the first takes effect on {main.effective}"))
    chosen = None
    for version in main.versions:
        if version.effective <= as_of:
            chosen = version
    return chosen


def load_file_on(path: str, as_of: str | None) -> Program:
    """One rules file as written (no version is chosen), each dated parameter at its value in force
    on `as_of` (a stage that names its own file)."""
    return load_program(path, as_of=(as_of, value_in_force) if as_of else None)


def value_in_force(effective: Sequence[str], as_of: str) -> int | None:
    """Which of a dated parameter's values (their effective dates, in order) is in force on
    `as_of`: the latest on or before it; None before the first."""
    chosen = None
    for i, date in enumerate(effective):
        if date <= as_of:
            chosen = i
    return chosen


def find_rules(directory: str = DEFAULT_RULES_DIR) -> str:
    """The rules file to use when none is named: the only one in `directory`."""
    if not os.path.isdir(directory):
        raise InputError(Problem(directory, 0, 0, "no rules directory here: name a rules file with --rules"))
    files = sorted(rules_files(directory))
    if len(files) != 1:
        found = ", ".join(files) if files else "none"
        raise InputError(Problem(directory, 0, 0, f"expected exactly one rules file, found {found}: use --rules"))
    return files[0]


def rules_files(directory: str) -> list[str]:
    return yaml_files(directory, tests=False)
