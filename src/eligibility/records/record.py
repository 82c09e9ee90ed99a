"""An evaluation as a stable, documented JSON-ready record (schema `eligibility.evaluation/1`)."""
from __future__ import annotations

import functools
import json
import sys
from typing import Any

from eligibility import __version__
from eligibility.evaluate.assess import MEMO_SIZE, Evaluation
from eligibility.language.standing import points_basis, secondhand_facts, verdict_basis
from eligibility.language.model import Program
from eligibility.evaluate.trace import jsonable, build_trace

SCHEMA = "eligibility.evaluation/1"
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
json_string = json.encoder.encode_basestring    # what compact_json does with a str (ensure_ascii=False)


@functools.lru_cache(maxsize=None)   # reads package metadata from disk: once per process
def engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return f"durable-rules {version('durable-rules')}"
    except PackageNotFoundError:
        return "durable-rules (version unknown)"


def program_info(p: Program) -> dict[str, Any]:
    """The rules behind a result: the file evaluated (a version of the program chosen by
    --as-of, or the file named), its hash, version label and effective date, and the rules
    file named on the command line (`rules_path`, `rules_sha256`) that chose it."""
    return {"id": p.id, "title": p.title, "path": p.path, "sha256": p.sha256, "version": p.version or None,
            "effective": p.effective or None, "rules_path": p.main_path or p.path,
            "rules_sha256": p.main_sha256 or p.sha256}


def evaluation_record(ev: Evaluation, trace: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """The per-applicant record shared by `check --format json` and the batch outputs."""
    p, a = ev.program, ev.applicant
    rec: dict[str, Any] = {
        "schema": SCHEMA,
        "applicant": {"id": a.id, "name": a.name, "lead": a.lead, "consortium": list(a.consortium),
                      "path": a.path, "sha256": a.sha256},
        "program": program_info(p),
        "engine": ev.engine,
        "versions": {"eligibility": __version__, "engine": engine_version(),
                     "python": sys.version.split()[0]},
        "as_of": ev.as_of,
        "verdict": ev.verdict,
        "reason": ev.reason,
        **basis_fields(ev),
        "score": ev.score,
        "score_max": ev.score_max,
        "threshold": p.decision.threshold,
        "missing": list(ev.missing),
        "gates_failed": ev.gates_failed,
        "criteria": [_criterion_dict(r, p) for r in ev.criteria],
        "parameters": {name: jsonable(prm.value) for name, prm in p.parameters.items()},
        "overrides": {name: jsonable(fv.value) for name, fv in a.overrides.items()},
        "parameter_overrides": {name: {"value": jsonable(prm.value), "rules_value": jsonable(prm.rules_value)}
                                for name, prm in p.parameters.items() if prm.overridden},
    }
    if command is not None:
        rec["command"] = command
    if trace:
        rec["trace"] = trace_of(ev)
    return rec


def trace_of(ev: Evaluation) -> dict[str, Any]:
    """The trace, with evidence published after the as-of date moved out of `evidence` (what was
    known then) into `later_evidence`, and each criterion's description and basis."""
    trace = build_trace(ev)
    p = ev.program
    for c in trace["criteria"]:
        crit = p.criterion(c["id"])
        c["description"] = crit.description or None
        c["basis"] = crit.basis.as_dict() if crit.basis else None
    if ev.as_of:
        for fact in trace["facts"].values():
            later = [e for e in fact["evidence"] if e["source"].get("date", "") > ev.as_of]
            if later:
                fact["evidence"] = [e for e in fact["evidence"] if e not in later]
                fact["later_evidence"] = later
    return trace


def basis_fields(ev: Evaluation) -> dict[str, Any]:
    """What the verdict rests on: `basis` (official, reported, inferred or calibration: the weakest
    rule it rests on), `unofficial` (that, or a deciding fact known only from press or analysis),
    and `basis_detail` (each rule with its basis, the points' and threshold's basis, the facts)."""
    p = ev.program
    vb = verdict_basis(p, ev.verdict, [r.outcome for r in ev.criteria])
    vb = verdict_basis(p, ev.verdict, [r.outcome for r in ev.criteria],
                       secondhand_facts(p, ev.applicant, ev.as_of, vb.rests_on))
    threshold = p.threshold_basis()
    detail = {**vb.as_dict(), "points": points_basis(p) or None,
              "threshold": (threshold.kind if threshold else "calibration") if p.decision.threshold else None}
    del detail["basis"], detail["unofficial"]
    return {"basis": vb.word, "unofficial": vb.unofficial, "basis_detail": detail}


def _criterion_dict(r: Any, p: Program) -> dict[str, Any]:
    c = p.criterion(r.id)
    return {"id": r.id, "title": r.title, "kind": r.kind, "outcome": r.outcome,
            "description": c.description or None,
            "points": r.points if r.kind == "scored" else None,
            "awarded": r.awarded if r.kind == "scored" else None, "missing": list(r.missing),
            "basis": c.basis.as_dict() if c.basis else None,
            "points_basis": c.points_basis.as_dict() if c.points_basis else None}


class RecordEncoder:
    """Evaluation records as compact JSON text: exactly `compact_json(evaluation_record(ev, trace,
    command))`, but the parts that are the same for every applicant of a run (schema, program,
    versions, parameters, each criterion's possible results) are encoded once, not per applicant."""

    def __init__(self, command: list[str] | None = None):
        self.command = command
        self._program: Program | None = None
        self._key: tuple = ()
        self._criteria: dict[tuple, str] = {}
        self._values: dict[tuple, str] = {}
        self._by_assessment: dict[Any, tuple[str, str]] = {}
        self._verdicts: dict[str, str] = {}
        self._basis_of: dict[Any, str] = {}

    def _prepare(self, ev: Evaluation) -> None:
        p = ev.program
        template = evaluation_record(ev, trace=False, command=self.command)
        enc = {k: compact_json(v) for k, v in template.items()}
        self._head = '{"schema":%s,"applicant":' % enc["schema"]
        self._middle = ',"program":%s,"engine":%s,"versions":%s,"as_of":%s,"verdict":' % (
            enc["program"], enc["engine"], enc["versions"], enc["as_of"])
        self._threshold = ',"threshold":%s,"missing":' % enc["threshold"]
        self._params = ',"parameters":%s,"overrides":' % enc["parameters"]
        self._tail = ',"parameter_overrides":%s' % enc["parameter_overrides"] + (
            ',"command":%s' % enc["command"] if self.command is not None else "")
        # from the overrides to the end, for an applicant with no overrides and no trace
        self._ends = {False: "{}" + self._tail + "}", True: "{}" + self._tail + "}\n"}
        self._criteria = {}
        self._by_assessment = {}
        self._verdicts = {}
        self._basis_of = {}
        self._program, self._key = p, (ev.engine, ev.as_of)

    def _cached(self, value: Any) -> str:
        """The JSON of a small immutable value that recurs across applicants (score, missing list)."""
        key = (type(value), value)
        text = self._values.get(key)
        if text is None:
            if len(self._values) > 4096:
                self._values.clear()
            text = self._values[key] = compact_json(list(value) if type(value) is tuple else value)
        return text

    def _up_to_reason(self, verdict: str) -> str:
        """The record from the program to the reason's key, for a verdict (one string per verdict)."""
        text = self._verdicts.get(verdict)
        if text is None:
            text = self._verdicts[verdict] = self._middle + json_string(verdict) + ',"reason":'
        return text

    def _results(self, ev: Evaluation) -> tuple[str, str]:
        """The JSON from the program to the reason's key, and from the score to the parameters'
        end: the same for every applicant sharing an Assessment (kept per Assessment, bounded)."""
        a = ev.assessment
        hit = self._by_assessment.get(a) if a is not None else None
        if hit is not None:
            return hit
        dumps, cache = compact_json, self._criteria
        criteria = []
        for r in ev.criteria:
            key = (r.id, r.title, r.kind, r.outcome, r.points, r.awarded, r.missing)
            piece = cache.get(key)
            if piece is None:
                if len(cache) > 4096:
                    cache.clear()
                piece = cache[key] = dumps(_criterion_dict(r, ev.program))
            criteria.append(piece)
        cached = self._cached
        hit = (self._up_to_reason(ev.verdict),
               "".join((',"score":', cached(ev.score), ',"score_max":', cached(ev.score_max), self._threshold,
                        cached(tuple(ev.missing)), ',"gates_failed":', cached(tuple(ev.gates_failed)),
                        ',"criteria":[', ",".join(criteria), "]", self._params)))
        if a is not None:
            if len(self._by_assessment) >= MEMO_SIZE:
                self._by_assessment.clear()
            self._by_assessment[a] = hit
        return hit

    def line(self, ev: Evaluation, trace: bool = False, newline: bool = False) -> str:
        """The record of `ev` as one line of compact JSON, ending with a newline if asked."""
        if ev.program is not self._program or self._key != (ev.engine, ev.as_of):
            self._prepare(ev)
        a, string = ev.applicant, json_string
        verdict, results = self._results(ev)
        if a.overrides or trace:
            overrides = compact_json({name: jsonable(fv.value) for name, fv in a.overrides.items()})
            end = self._tail + (',"trace":' + compact_json(trace_of(ev)) + "}" if trace else "}")
            rest = overrides + end + ("\n" if newline else "")
        else:
            rest = self._ends[newline]
        return "".join((self._head, '{"id":', string(a.id), ',"name":', string(a.name), ',"lead":', string(a.lead),
                        ',"consortium":', compact_json(list(a.consortium)) if a.consortium else "[]",
                        ',"path":', string(a.path), ',"sha256":', string(a.sha256), "}", verdict,
                        string(ev.reason), self._basis(ev), results, rest))

    def _basis(self, ev: Evaluation) -> str:
        """The basis fields as JSON, from `,` to before the score (kept per distinct content)."""
        # without evidence, the basis follows from the outcomes alone: one per Assessment
        plain = ev.assessment is not None and ev.applicant.plain_values() is not None
        text = self._basis_of.get(ev.assessment) if plain else None
        if text is not None:
            return text
        fields = basis_fields(ev)
        key = (fields["basis"], fields["unofficial"], repr(fields["basis_detail"]))
        text = self._values.get(key)
        if text is None:
            if len(self._values) > 4096:
                self._values.clear()
            text = self._values[key] = "," + compact_json(fields)[1:-1]
        if plain:
            if len(self._basis_of) >= MEMO_SIZE:
                self._basis_of.clear()
            self._basis_of[ev.assessment] = text
        return text


class PendingRecord:
    """One evaluation's record, rendered only in the form the output asks for."""

    __slots__ = ("ev", "trace", "encoder")

    def __init__(self, ev: Evaluation, trace: bool, encoder: RecordEncoder):
        self.ev, self.trace, self.encoder = ev, trace, encoder

    def as_dict(self) -> dict[str, Any]:
        return evaluation_record(self.ev, trace=self.trace, command=self.encoder.command)

    def as_json(self, newline: bool = False) -> str:
        """Compact JSON text, one line (with its newline if asked)."""
        return self.encoder.line(self.ev, self.trace, newline)
