"""`eligibility validate`: every problem of rules files and profiles, in one pass."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

from eligibility.core.errors import InputError, Problem
from eligibility.language.model import Program
from eligibility.core.paths import yaml_files
from eligibility.language.profile import check_applicant
from eligibility.language.rules import check_program
from eligibility.language.yamlsafe import YMap, load_yaml, read_text


@dataclass
class Report:
    """The problems found, in file order; `files` counts the files checked."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def expand(paths: Iterable[str]) -> list[str]:
    """Files named, and the YAML files of directories named (rule test files left out)."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            out += yaml_files(path, tests=False)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def is_rules(data: object) -> bool:
    """A rules file has a `program` mapping or `criteria`; a profile names its program by id."""
    return isinstance(data, YMap) and (isinstance(data.get("program"), dict) or "criteria" in data)


def validate(paths: Iterable[str], default_rules: str | None = None) -> Report:
    """Check rules files and profiles; profiles against the rules given (matched on program id),
    or `default_rules` when no rules file is among `paths`."""
    report = Report()
    rules: list[tuple[str, Program | None, str]] = []
    profiles: list[tuple[str, str, object]] = []
    for path in expand(paths):
        report.files += 1
        try:
            text = read_text(path)
            data = load_yaml(path, text)
        except InputError as exc:
            report.problems += exc.problems
            continue
        if is_rules(data):
            program, problems = check_program(path, text=text)
            report.problems += problems.items
            program_id = data["program"].get("id") if isinstance(data.get("program"), dict) else None
            rules.append((path, program, str(program_id)))
        else:
            profiles.append((path, text, data))
    fallback: list[tuple[str, Program | None, str]] = []
    if profiles and default_rules and default_rules not in [r[0] for r in rules]:
        program, problems = check_program(default_rules)
        fallback = [(default_rules, program, program.id if program else "")]
        if not rules:
            report.problems += problems.items
    for path, text, data in profiles:
        report.problems += _check_profile(path, text, data, rules, fallback)
    order = {p: i for i, p in enumerate(dict.fromkeys(p.path for p in report.problems))}
    report.problems.sort(key=lambda p: (order[p.path], p.line, p.col))
    return report


def _check_profile(path: str, text: str, data: object, rules: list[tuple[str, Program | None, str]],
                   fallback: list[tuple[str, Program | None, str]]) -> list[Problem]:
    """Check a profile against a valid rules file for its program: one given, else ./rules."""
    wanted = data.get("program") if isinstance(data, dict) else None
    given = [r for r in rules if r[2] == wanted] or (rules if len(rules) == 1 and wanted is None else [])
    usable = [r for r in given if r[1] is not None] or \
        [r for r in fallback if r[1] is not None and (wanted is None or r[2] == wanted)]
    if usable:
        return check_applicant(path, usable[0][1], text)[1].items
    if given:
        return [Problem(path, 1, 1, f"not checked: its rules file {given[0][0]} has errors", "warning")]
    ids = ", ".join(r[2] for r in rules + fallback) or "none"
    return [Problem(path, 1, 1, f"no rules file for program {wanted!r} (rules found: {ids})")]
