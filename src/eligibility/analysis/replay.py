"""Replay saved evaluation records and say whether the result is identical.

    from eligibility.analysis import replay
    report = replay.replay_file("kt.json")     # a `check --format json` record, or a batch json/jsonl output
    report.identical, [r.differences for r in report.results]

Each record names everything its result depends on: the rules file named on the command
line (`program.rules_path`) and the version of it that was evaluated (`program.path`), the
profile (`applicant.path`), the parameter and fact overrides, the as-of date and the engine.
The replay loads the same files with the same settings (api.load_rules picks the version in
force on the recorded date again), evaluates, and compares the verdict, reason, score,
criterion outcomes, rules version and the sha256 of the rules file, of the version evaluated
and of the profile: a file changed since the record, by one byte, is reported by name. For a
batch output the ranking and quota are applied again and the rank and final verdict compared.
"""
from __future__ import annotations

import hashlib
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Any

from eligibility.evaluate.evaluator import Evaluator
from eligibility.language.profile import apply_overrides, load_applicant
from eligibility.language.versions import load_rules
from eligibility.program.decision import decide, entry_from_record
from eligibility.core.errors import InputError, Problem
from eligibility.language.model import Applicant, Program
from eligibility.records.record import evaluation_record
from eligibility.language.yamlsafe import read_text
from eligibility.core.formatting import number

RECORD_SCHEMA = "eligibility.evaluation/1"
BATCH_SCHEMA = "eligibility.batch/1"
HASHES = (("program", "rules_sha256", "rules_path", "rules file"),
          ("program", "sha256", "path", "rules version file"),
          ("applicant", "sha256", "path", "profile"))


@dataclass
class Difference:
    field: str
    recorded: Any
    now: Any
    note: str = ""

    def as_dict(self) -> dict:
        return {"field": self.field, "recorded": self.recorded, "now": self.now, "note": self.note}


@dataclass
class Result:
    """One replayed record: which applicant, and what differs (nothing when identical)."""

    applicant: str
    verdict: str
    differences: list[Difference] = field(default_factory=list)
    error: str = ""

    @property
    def identical(self) -> bool:
        return not self.differences and not self.error

    def as_dict(self) -> dict:
        return {"applicant": self.applicant, "verdict": self.verdict, "identical": self.identical,
                "differences": [d.as_dict() for d in self.differences], "error": self.error or None}


@dataclass
class Report:
    path: str
    kind: str                                  # "record" or "batch"
    results: list[Result]

    @property
    def identical(self) -> bool:
        return all(r.identical for r in self.results)

    def as_dict(self) -> dict:
        return {"schema": "eligibility.replay/1", "path": self.path, "kind": self.kind,
                "identical": self.identical, "results": [r.as_dict() for r in self.results]}


# -- reading saved outputs ---------------------------------------------------------------------------
def load_records(path: str) -> tuple[str, list[dict]]:
    """("record" or "batch", the evaluation records) of a check record, a batch json or a batch jsonl file."""
    kind, records = _read_records(path)
    for i, rec in enumerate(records, start=1):
        _check_record(path, i, rec)
    return kind, records


def _check_record(path: str, n: int, rec: Any) -> None:
    """Refuse a record that cannot be replayed (edited by hand, truncated) with one clear line."""
    def bad(what: str) -> InputError:
        return InputError(Problem(path, 0, 0, f"record {n}: {what}"))
    if not isinstance(rec, dict) or not isinstance(rec.get("applicant"), dict) or not isinstance(rec.get("program"), dict):
        raise bad("missing 'applicant' or 'program'")
    if not isinstance(rec["applicant"].get("path"), str) or not isinstance(rec["program"].get("path"), str):
        raise bad("missing the applicant or rules file path")
    as_of = rec.get("as_of")
    if as_of is not None:
        try:
            if not isinstance(as_of, str) or dt.date.fromisoformat(as_of).isoformat() != as_of:
                raise ValueError
        except ValueError:
            raise bad(f"'as_of' is not a date YYYY-MM-DD: {as_of!r}") from None


def _read_records(path: str) -> tuple[str, list[dict]]:
    text = read_text(path)
    try:
        docs = [json.loads(text)]
    except ValueError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise InputError(Problem(path, getattr(exc, "lineno", 0), getattr(exc, "colno", 0),
                                     f"not JSON nor JSON Lines: {getattr(exc, 'msg', exc)}")) from None
        records = [d for d in docs if isinstance(d, dict) and d.get("schema") == RECORD_SCHEMA]
        if records:
            return "batch", records
        raise InputError(Problem(path, 1, 1, "no evaluation records in this file"))
    doc = docs[0]
    if isinstance(doc, dict) and doc.get("schema") == RECORD_SCHEMA:
        return "record", [doc]
    if isinstance(doc, dict) and doc.get("schema") == BATCH_SCHEMA:
        return "batch", list(doc.get("applicants") or [])
    raise InputError(Problem(path, 1, 1, f"expected an evaluation record ({RECORD_SCHEMA}) or a batch "
                                         f"output ({BATCH_SCHEMA})"))


# -- replaying ---------------------------------------------------------------------------------------
def replay_file(path: str) -> Report:
    """Replay every record of a saved output (see the module docstring)."""
    kind, records = load_records(path)
    results, replayed = [], []
    for rec in records:
        result, new = replay_record(rec)
        results.append(result)
        replayed.append(new)
    if kind == "batch" and records and all(n is not None for n in replayed) and "final_verdict" in records[0]:
        _compare_ranking(records, replayed, results)
    return Report(path, kind, results)


def replay_record(rec: dict) -> tuple[Result, dict | None]:
    """Re-run one record; (the comparison, the new record or None when it could not be re-run)."""
    who = rec.get("applicant", {}).get("id") or rec.get("applicant", {}).get("path", "?")
    result = Result(who, rec.get("verdict", "?"))
    try:
        new = _rerun(rec)
    except (InputError, OSError, KeyError, TypeError, ValueError) as exc:
        result.error = f"could not re-run: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        result.differences = _file_changes(rec)
        return result, None
    result.differences = compare_records(rec, new)
    return result, new


def _rerun(rec: dict) -> dict:
    prog, appl = rec["program"], rec["applicant"]
    params = {name: v["value"] for name, v in (rec.get("parameter_overrides") or {}).items()}
    program = load_rules(prog.get("rules_path") or prog["path"], params, rec.get("as_of"))
    applicant = _load_applicant(appl["path"], program)
    settings = {name: ("unknown" if v is None else v) for name, v in (rec.get("overrides") or {}).items()}
    if settings:
        apply_overrides(applicant, program, settings)
    evaluator = Evaluator(program, rec.get("engine") or "durable")
    try:
        return evaluation_record(evaluator.evaluate(applicant, rec.get("as_of"), trace=False), trace=False)
    finally:
        evaluator.close()


def _load_applicant(path: str, program: Program) -> Applicant:
    """A YAML profile file, or one line/row (`file:LINE`) of a JSON Lines or CSV input of a batch."""
    base, _, line = path.rpartition(":")
    if base and line.isdigit() and not os.path.exists(path):
        from eligibility.program.inputs import iter_items, parse_item
        for item in iter_items([base]):
            if item.line == int(line):
                return parse_item(item, program)
        raise InputError(Problem(base, int(line), 0, "no input at this line any more"))
    return load_applicant(path, program)


def compare_records(old: dict, new: dict) -> list[Difference]:
    """What differs between a recorded result and its replay: files first, then the result."""
    out = []
    for part, key, path_key, what in HASHES:
        a, b = old.get(part, {}).get(key), new.get(part, {}).get(key)
        if a is not None and a != b:
            where = new.get(part, {}).get(path_key) or old.get(part, {}).get(path_key)
            out.append(Difference(f"{part}.{key}", a, b, f"the {what} {where} changed since the record"))
    for key in ("version", "effective", "path"):
        a, b = old.get("program", {}).get(key), new["program"].get(key)
        if a != b:
            out.append(Difference(f"program.{key}", a, b, "another rules version was used"))
    for key in ("verdict", "reason", "score", "gates_failed", "missing"):
        if old.get(key) != new.get(key):
            out.append(Difference(key, old.get(key), new.get(key)))
    before = {c["id"]: (c["outcome"], c.get("awarded")) for c in old.get("criteria", [])}
    after = {c["id"]: (c["outcome"], c.get("awarded")) for c in new.get("criteria", [])}
    for cid in list(before) + [c for c in after if c not in before]:
        if before.get(cid) != after.get(cid):
            out.append(Difference(f"criteria.{cid}", _outcome(before.get(cid)), _outcome(after.get(cid))))
    return out


def _outcome(pair: tuple | None) -> str | None:
    if pair is None:
        return None
    outcome, awarded = pair
    return outcome if awarded is None else f"{outcome} ({number(awarded)} points)"


def _file_changes(rec: dict) -> list[Difference]:
    """Hash differences found by reading the files directly (when the replay itself failed)."""
    out = []
    for part, key, path_key, what in HASHES:
        path, recorded = rec.get(part, {}).get(path_key), rec.get(part, {}).get(key)
        if not path or not recorded or not os.path.isfile(path):
            continue
        try:
            now = hashlib.sha256(read_text(path).encode("utf-8")).hexdigest()
        except InputError:
            now = None
        if now != recorded:
            out.append(Difference(f"{part}.{key}", recorded, now, f"the {what} {path} changed since the record"))
    return out


def _compare_ranking(records: list[dict], replayed: list[dict], results: list[Result]) -> None:
    """Apply the ranking and quota of the (replayed) program again and compare rank and final verdict."""
    rec = records[0]
    params = {name: v["value"] for name, v in (rec.get("parameter_overrides") or {}).items()}
    program = load_rules(rec["program"].get("rules_path") or rec["program"]["path"], params, rec.get("as_of"))
    entries = [entry_from_record(i, r) for i, r in enumerate(replayed)]
    decide(program, entries)
    for old, entry, result in zip(records, entries, results):
        for key, now in (("rank", entry.rank), ("final_verdict", entry.final)):
            if old.get(key) != now:
                result.differences.append(Difference(key, old.get(key), now, "ranking and quota applied again"))
