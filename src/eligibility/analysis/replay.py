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
from eligibility.language.profile import OVERRIDE_LABEL, apply_overrides, load_applicant
from eligibility.language.versions import load_rules
from eligibility.program.decision import ERROR, VERDICTS, Decision, Entry, decide, entry_from_record, policy_dict
from eligibility.core.errors import InputError, Problem
from eligibility.language.model import Applicant, Program
from eligibility.records.record import evaluation_record
from eligibility.language.yamlsafe import read_text
from eligibility.core.formatting import number

RECORD_SCHEMA = "eligibility.evaluation/1"
BATCH_SCHEMA = "eligibility.batch/1"
SUMMARY_SCHEMA = "eligibility.batch-summary/1"
ERROR_SCHEMA = "eligibility.error/1"
HASHES = (("program", "rules_sha256", "rules_path", "rules file"),
          ("program", "sha256", "path", "rules version file"),
          ("applicant", "sha256", "path", "profile"))


_HASH_FIELDS = {f"{part}.{key}" for part, key, _, _ in HASHES}


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
@dataclass
class Saved:
    """A saved output: its kind, its evaluation records, and for a batch what it says of the
    whole run (`head`: the JSON output's header or the JSON Lines summary line, None when it is
    missing), the input number of each record and how many inputs were errors."""

    kind: str
    records: list[dict]
    head: dict | None = None
    keys: list[int] = field(default_factory=list)
    errors: int = 0
    fmt: str = "json"


def load_records(path: str) -> tuple[str, list[dict]]:
    """("record" or "batch", the evaluation records) of a check record, a batch json or a batch jsonl file."""
    saved = load_saved(path)
    return saved.kind, saved.records


def load_saved(path: str) -> Saved:
    """The records of a saved output and what it says of the whole run (see Saved)."""
    saved = _read_records(path)
    for i, rec in enumerate(saved.records, start=1):
        _check_record(path, i, rec)
    return saved


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


def _read_records(path: str) -> Saved:
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
            keys = [i for i, d in enumerate(docs) if isinstance(d, dict) and d.get("schema") == RECORD_SCHEMA]
            errors = sum(1 for d in docs if isinstance(d, dict) and d.get("schema") == ERROR_SCHEMA)
            heads = [d for d in docs if isinstance(d, dict) and d.get("schema") == SUMMARY_SCHEMA]
            return Saved("batch", records, heads[-1] if len(heads) == 1 and docs[-1] is heads[-1] else None,
                         keys, errors, "jsonl")
        raise InputError(Problem(path, 1, 1, "no evaluation records in this file"))
    doc = docs[0]
    if isinstance(doc, dict) and doc.get("schema") == RECORD_SCHEMA:
        return Saved("record", [doc])
    if isinstance(doc, dict) and doc.get("schema") == BATCH_SCHEMA:
        records = list(doc.get("applicants") or [])
        errors = doc.get("errors") or []
        return Saved("batch", records, doc, list(range(len(records))), len(errors) if isinstance(errors, list) else 0)
    raise InputError(Problem(path, 1, 1, f"expected an evaluation record ({RECORD_SCHEMA}) or a batch "
                                         f"output ({BATCH_SCHEMA})"))


# -- replaying ---------------------------------------------------------------------------------------
def replay_file(path: str, settings_label: str = OVERRIDE_LABEL) -> Report:
    """Replay every record of a saved output (see the module docstring). `settings_label` names the
    fact overrides in the evidence, as the command that wrote the records did."""
    saved = load_saved(path)
    kind, records = saved.kind, saved.records
    results, replayed = [], []
    for rec in records:
        result, new = replay_record(rec, settings_label)
        results.append(result)
        replayed.append(new)
    files_changed = any(d.field in _HASH_FIELDS for r in results for d in r.differences)
    if kind == "batch" and records and all(n is not None for n in replayed):
        whole = Result("(batch)", "")
        whole.differences = compare_batch(saved, replayed, results, whole=not files_changed)
        if whole.differences:
            results.append(whole)
    return Report(path, kind, results)


def replay_record(rec: dict, settings_label: str = OVERRIDE_LABEL) -> tuple[Result, dict | None]:
    """Re-run one record; (the comparison, the new record or None when it could not be re-run)."""
    who = rec.get("applicant", {}).get("id") or rec.get("applicant", {}).get("path", "?")
    result = Result(who, rec.get("verdict", "?"))
    try:
        new = _rerun(rec, settings_label)
    except (InputError, OSError, KeyError, TypeError, ValueError) as exc:
        result.error = f"could not re-run: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        result.differences = _file_changes(rec)
        return result, None
    result.differences = compare_records(rec, new)
    return result, new


def _rerun(rec: dict, settings_label: str = OVERRIDE_LABEL) -> dict:
    if rec.get("stage"):
        return _rerun_standing(rec)
    prog, appl = rec["program"], rec["applicant"]
    params = {name: v["value"] for name, v in (rec.get("parameter_overrides") or {}).items()}
    program = load_rules(prog.get("rules_path") or prog["path"], params, rec.get("as_of"))
    applicant = _load_applicant(appl["path"], program)
    settings = {name: ("unknown" if v is None else v) for name, v in (rec.get("overrides") or {}).items()}
    if settings:
        apply_overrides(applicant, program, settings, label=settings_label)
    evaluator = Evaluator(program, rec.get("engine") or "durable")
    try:
        trace = "trace" in rec
        return evaluation_record(evaluator.evaluate(applicant, rec.get("as_of"), trace=trace), trace=trace)
    finally:
        evaluator.close()


def _rerun_standing(rec: dict) -> dict:
    """A check record of a programme in stages: the journey decided again on the date asked, and the
    evaluation at the stage that judged the applicant last (the record's own `as_of` is that stage's date)."""
    from eligibility.program.stages import standing_dict, standing_of
    stage = rec["stage"]
    program = load_rules(stage["rules_path"], None, stage.get("as_of"))
    standing = standing_of(program, rec["applicant"]["path"], stage.get("applicants"), stage.get("as_of"),
                           rec.get("engine") or "durable")
    new = evaluation_record(standing.evaluation, trace="trace" in rec)
    new["stage"] = standing_dict(standing)
    return new


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
    # the same files, the same settings: every other field must then be the same too (a record is
    # verified as a whole); with a file changed, the differences above say why the result moved
    if not any(d.field in _HASH_FIELDS for d in out) and record_digest(old) != record_digest(new):
        shown = {d.field for d in out}
        out += [d for d in field_differences(old, new) if d.field not in shown and d.field.split(".")[0] not in
                ("verdict", "reason", "score", "gates_failed", "missing")
                and not (d.field.startswith("criteria[") and any(f.startswith("criteria.") for f in shown))]
    return out


# What a record asserts but a replay cannot recompute: the command line that wrote it, and the
# final ranking of a batch (compared by compare_batch).
NOT_RECOMPUTED = ("command", "rank", "final_verdict", "final_reason", "placement", "provisional")


def record_digest(rec: dict) -> str:
    """sha256 of everything a record asserts that a replay recomputes (canonical JSON)."""
    body = {k: v for k, v in rec.items() if k not in NOT_RECOMPUTED}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                                     default=str).encode("utf-8", "surrogatepass")).hexdigest()


def field_differences(old: Any, new: Any, where: str = "") -> list[Difference]:
    """Every leaf that differs between two JSON values, named by its path (`trace.facts.x.value`,
    `criteria[2].points`); fields in NOT_RECOMPUTED at the top are left out."""
    out: list[Difference] = []
    stack = [(where, old, new)]
    while stack:
        path, a, b = stack.pop()
        if isinstance(a, dict) and isinstance(b, dict):
            for k in [*a, *(k for k in b if k not in a)][::-1]:
                if not path and k in NOT_RECOMPUTED:
                    continue
                stack.append((f"{path}.{k}" if path else str(k), a.get(k, _ABSENT), b.get(k, _ABSENT)))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            stack += [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b))][::-1]
        elif a != b or type(a) is not type(b):
            out.append(Difference(path, None if a is _ABSENT else a, None if b is _ABSENT else b,
                                  "not in the record" if a is _ABSENT else "not in the replay" if b is _ABSENT else ""))
    return out


_ABSENT = object()


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


def _explained(decision: Decision, e: Entry) -> tuple[tuple[str, Any], ...]:
    """What the outputs add to a ranked entry under rank_by: its placement and provisional verdict."""
    if not decision.rank_by:
        return ()
    return (("placement", e.placement or None), ("provisional", e.provisional or None))


def compare_batch(saved: Saved, replayed: list[dict], results: list[Result], whole: bool = True) -> list[Difference]:
    """Apply the ranking and quota of the (replayed) program again: compare each record's rank and
    final verdict (JSON), and, with `whole` (no input file changed since), everything the output
    says of the whole run (the JSON header, the JSON Lines summary line: program, as-of date,
    decision policy, counts, ranking)."""
    rec = saved.records[0]
    params = {name: v["value"] for name, v in (rec.get("parameter_overrides") or {}).items()}
    program = load_rules(rec["program"].get("rules_path") or rec["program"]["path"], params, rec.get("as_of"))
    entries = [entry_from_record(k, r) for k, r in zip(saved.keys, replayed)]
    decision = decide(program, entries)
    if saved.fmt == "json":
        for old, entry, result in zip(saved.records, entries, results):
            for key, now in (("rank", entry.rank), ("final_verdict", entry.final), *_explained(decision, entry)):
                if old.get(key) != now:
                    result.differences.append(Difference(key, old.get(key), now, "ranking and quota applied again"))
    if not whole:
        return []
    if saved.head is None:
        return [Difference("summary", None, "present", "the batch summary line is missing")]
    inputs = len(entries) + saved.errors
    counts = {v: decision.counts[v] for v in VERDICTS if v != ERROR}
    expected: dict[str, Any] = {
        "program": replayed[0]["program"], "as_of": rec.get("as_of"),
        "decision": policy_dict(decision),
        "summary": {"inputs": inputs, "evaluated": len(entries), "errors": saved.errors, **counts}}
    if saved.fmt == "jsonl":
        expected["ranking"] = [{"input": e.key, "id": e.id, "rank": e.rank, "final_verdict": e.final,
                                **dict(_explained(decision, e))} for e in decision.ranking]
    head = {k: saved.head.get(k, _ABSENT) for k in expected}
    return [Difference(d.field, d.recorded, d.now, d.note or "the batch as a whole, replayed")
            for d in field_differences(head, expected)]
