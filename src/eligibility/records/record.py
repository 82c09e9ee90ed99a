"""An evaluation as a stable, documented JSON record (schema `eligibility.evaluation/1`).

The record is defined once, as a table of fields (`FIELDS`): each field's name, how its value
is read from an evaluation, and its scope: the same for every applicant of a run (`run`: the
programme, parameters, versions), the same for every applicant with the same assessment
(`assessment`: verdict, score, criteria, and the basis of the verdict, which the evaluation's
`standing` gives), or the applicant's own (`applicant`). `record()`
gives the plain dict (what `check --format json` writes). `RecordEncoder` writes the same
record as compact JSON text, encoding the run and assessment fields once per assessment
(through the batch's memo): the tests hold it to `compact_json(record(...))`.
"""
from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass, replace
from typing import Any, Callable

from eligibility import __version__
from eligibility.evaluate.assess import CriterionResult, Evaluation
from eligibility.evaluate.memo import PER_CRITERION, Memo
from eligibility.evaluate.points import finite
from eligibility.evaluate.rankvalues import rank_values
from eligibility.evaluate.trace import build_trace, fact_dict, jsonable
from eligibility.language.model import ALL_EVIDENCE, Program
from eligibility.language.standing import points_basis

SCHEMA = "eligibility.evaluation/1"
RUN, ASSESSMENT, APPLICANT = "run", "assessment", "applicant"
json_string = json.encoder.encode_basestring    # what compact_json does with a str (ensure_ascii=False)
_STANDARD = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The standard library's C encoder, made once rather than at every call (json.dumps makes one per
# call, and a fresh dict to detect cycles: records have none). Elsewhere than CPython, json.dumps.
_C_ENCODER = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None, _STANDARD.default, json_string, None, ":", ",", False, False, True)


def compact_json(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, separators=(",", ":"))`, a little faster."""
    if type(value) is str:
        return json_string(value)
    if _C_ENCODER is None:
        return _STANDARD.encode(value)
    return "".join(_C_ENCODER(value, 0))


@dataclass(frozen=True)
class RecordOptions:
    """What a run puts in each record besides the evaluation: the trace, and the command line."""

    trace: bool = False
    command: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Field:
    name: str
    scope: str
    value: Callable[[Evaluation, RecordOptions], Any]
    present: Callable[[RecordOptions, Program], bool] = lambda options, program: True


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


def criterion_dict(r: CriterionResult, p: Program) -> dict[str, Any]:
    c = p.criterion(r.id)
    scored = r.kind == "scored"
    return {"id": r.id, "title": r.title, "kind": r.kind, "outcome": r.outcome,
            "description": c.description or None,
            "points": finite(r.points) if scored else None, "awarded": r.awarded if scored else None,
            "missing": list(r.missing),
            "basis": c.basis.as_dict() if c.basis else None,
            "points_basis": c.points_basis.as_dict() if c.points_basis else None}


def trace_of(ev: Evaluation) -> dict[str, Any]:
    """The trace, with each criterion's description and basis. With an as-of date, a fact's
    `evidence` is what had been published by then; `later_evidence` is what appeared later about
    the value holding on that date (not used: a value known only from it is unknown then)."""
    trace = build_trace(ev)
    p = ev.program
    for c in trace["criteria"]:
        crit = p.criterion(c["id"])
        c["description"] = crit.description or None
        c["basis"] = crit.basis.as_dict() if crit.basis else None
    dated = dated_parameters(p)
    if dated:
        trace["dated_parameters"] = dated
    cutoff = ev.applicant.cutoff(ev.as_of)
    if cutoff:
        unrestricted = replace(ev.applicant, known_by=ALL_EVIDENCE)
        for name, fact in trace["facts"].items():
            held = fact_dict(unrestricted.fact(name, ev.as_of))["evidence"]
            pool = fact["evidence"] + [e for e in held if e not in fact["evidence"]]
            later = [e for e in pool if e["source"].get("date", "") > cutoff]
            if later:
                fact["evidence"] = [e for e in fact["evidence"] if e not in later]
                fact["later_evidence"] = later
    return trace


def dated_parameters(p: Program) -> dict[str, Any]:
    """Each dated parameter's value used, the date from which it is in force and its basis (a
    parameter given by --param says so, with the dated value it replaced)."""
    return {n: {"value": jsonable(x.value), "effective": x.effective, "basis": x.basis.as_dict() if x.basis else None,
                **({"rules_value": jsonable(x.rules_value)} if x.overridden else {})}
            for n, x in p.parameters.items() if x.values}


def basis_detail(ev: Evaluation) -> dict[str, Any]:
    """Each rule the verdict rests on with its basis, the points' and the threshold's basis, and the
    deciding facts known only from press or analysis."""
    p = ev.program
    threshold = p.threshold_basis()
    detail = {**ev.standing.as_dict(), "points": points_basis(p) or None,
              "threshold": (threshold.kind if threshold else "calibration") if p.decision.threshold else None}
    del detail["basis"], detail["unofficial"]
    return detail


def rank_keys(ev: Evaluation) -> dict[str, Any]:
    """The applicant's value of each fact or computed value the ranking reads (`decision.rank_by`),
    with the unknown facts behind a value that is not known."""
    return {key: {"value": jsonable(v.value), "missing": list(v.missing)}
            for key, v in zip(ev.program.decision.value_keys, rank_values(ev))}


def _applicant(ev: Evaluation, _: RecordOptions) -> dict[str, Any]:
    a = ev.applicant
    return {"id": a.id, "name": a.name, "lead": a.lead, "consortium": list(a.consortium), "path": a.path,
            "sha256": a.sha256}


FIELDS: tuple[Field, ...] = (
    Field("schema", RUN, lambda ev, o: SCHEMA),
    Field("applicant", APPLICANT, _applicant),
    Field("program", RUN, lambda ev, o: program_info(ev.program)),
    Field("engine", RUN, lambda ev, o: ev.engine),
    Field("versions", RUN, lambda ev, o: {"eligibility": __version__, "engine": engine_version(),
                                          "python": sys.version.split()[0]}),
    Field("as_of", RUN, lambda ev, o: ev.as_of),
    Field("evaluation_date", APPLICANT, lambda ev, o: ev.evaluation_date, lambda o, p: p.reads_today),
    Field("verdict", ASSESSMENT, lambda ev, o: ev.verdict),
    Field("reason", APPLICANT, lambda ev, o: ev.reason),
    Field("basis", ASSESSMENT, lambda ev, o: ev.standing.word),
    Field("unofficial", ASSESSMENT, lambda ev, o: ev.standing.unofficial),
    Field("basis_detail", ASSESSMENT, lambda ev, o: basis_detail(ev)),
    Field("score", ASSESSMENT, lambda ev, o: ev.score),
    Field("score_max", ASSESSMENT, lambda ev, o: finite(ev.score_max)),
    Field("threshold", RUN, lambda ev, o: ev.program.decision.threshold),
    Field("missing", ASSESSMENT, lambda ev, o: list(ev.missing)),
    Field("gates_failed", ASSESSMENT, lambda ev, o: ev.gates_failed),
    Field("criteria", ASSESSMENT, lambda ev, o: [criterion_dict(r, ev.program) for r in ev.assessment.criteria]),
    Field("parameters", RUN, lambda ev, o: {n: jsonable(p.value) for n, p in ev.program.parameters.items()}),
    Field("overrides", APPLICANT, lambda ev, o: {n: jsonable(fv.value) for n, fv in ev.applicant.overrides.items()}),
    Field("parameter_overrides", RUN, lambda ev, o: {
        n: {"value": jsonable(p.value), "rules_value": jsonable(p.rules_value)}
        for n, p in ev.program.parameters.items() if p.overridden}),
    Field("rank_keys", APPLICANT, lambda ev, o: rank_keys(ev), lambda o, p: bool(p.decision.value_keys)),
    Field("command", RUN, lambda ev, o: list(o.command or ()), lambda o, p: o.command is not None),
    Field("trace", APPLICANT, lambda ev, o: trace_of(ev), lambda o, p: o.trace),
)


def record(ev: Evaluation, options: RecordOptions = RecordOptions()) -> dict[str, Any]:
    """The evaluation record as plain, JSON-ready data."""
    return {f.name: f.value(ev, options) for f in FIELDS if f.present(options, ev.program)}


def evaluation_record(ev: Evaluation, trace: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """The record shared by `check --format json` and the batch outputs (see `record`)."""
    return record(ev, RecordOptions(trace, tuple(command) if command is not None else None))


@dataclass
class _Layout:
    shared: list[list[tuple[str, Field]]]
    own: list[tuple[str, Field]]


class RecordEncoder:
    """Records of one run as compact JSON text: exactly `compact_json(record(ev, options))`.

    The fields are taken in order: each applicant field is encoded for each applicant; the text
    between two applicant fields (run and assessment fields) is the same for every applicant
    with the same assessment and standing, and is made once for them (kept in `memo`, when given)."""

    def __init__(self, options: RecordOptions = RecordOptions(), memo: Memo | None = None):
        self.options, self.memo = options, memo
        self._layouts: dict[int, tuple[Program, _Layout]] = {}

    def _layout(self, program: Program) -> _Layout:
        """The record's fields for this program, as runs of shared fields (encoded together)
        between applicant fields; which fields are present may depend on the program."""
        known = self._layouts.get(id(program))
        if known is not None:
            return known[1]
        fields = [f for f in FIELDS if f.present(self.options, program)]
        members = [("{" if n == 0 else ",") + json_string(f.name) + ":" for n, f in enumerate(fields)]
        layout = _Layout([[]], [])
        for member, f in zip(members, fields):
            if f.scope == APPLICANT:
                layout.own.append((member, f))
                layout.shared.append([])
            else:
                layout.shared[-1].append((member, f))
        self._layouts[id(program)] = (program, layout)    # the program is kept, so its id stays its own
        return layout

    def _shared_parts(self, ev: Evaluation) -> tuple[tuple[str, ...], ...]:
        """For each run of shared fields, its JSON text as fragments. With a memo most fragments
        are strings kept once (member names, run fields, criterion texts), so an assessment's
        entry holds references to them, not a copy of its 4 KB of text."""
        runs = []
        for run in self._layout(ev.program).shared:
            parts: list[str] = []
            for member, f in run:
                parts.append(member)
                parts += self._fragments(f, ev)
            runs.append(parts)
        runs[-1].append("}")
        return tuple(map(tuple, runs))

    def _fragments(self, f: Field, ev: Evaluation) -> list[str]:
        """A run or assessment field's JSON text, in fragments. With a memo, a run field's text is
        made once per program, engine and as-of date (what run fields read), and the criteria's
        once per distinct criterion result, so that an assessment met for the first time costs
        little more than putting known pieces together."""
        if self.memo is not None:
            if f.scope == RUN:
                return [self.memo.get("run field", (f.name, id(ev.program), ev.engine, ev.as_of), self._plain, f, ev)]
            if f.name == "criteria":
                parts = ["["]
                for r in ev.assessment.criteria:
                    parts += (self._criterion(r, ev.program), ",")
                parts[-1] = "]" if len(parts) > 1 else "[]"
                return parts
        return [self._plain(f, ev)]

    def _plain(self, f: Field, ev: Evaluation) -> str:
        return compact_json(f.value(ev, self.options))

    def _criterion(self, r: CriterionResult, program: Program) -> str:
        # repr: 1, 1.0 and -0.0 are equal numbers with different texts
        key = (id(program), r.id, r.outcome, repr(r.points), repr(r.awarded), r.missing)
        return self.memo.get(PER_CRITERION, key, lambda: compact_json(criterion_dict(r, program)))  # type: ignore[union-attr]

    def line(self, ev: Evaluation, newline: bool = False) -> str:
        """The record of `ev` as one line of compact JSON, ending with a newline if asked."""
        if self.memo is None:
            shared = self._shared_parts(ev)
        else:     # an assessment is made for one program, so its run fields come with it
            shared = self.memo.get("record", (ev.assessment, ev.standing), self._shared_parts, ev)
        options, out = self.options, list(shared[0])
        for (member, f), parts in zip(self._layout(ev.program).own, shared[1:]):
            out.append(member)
            out.append(compact_json(f.value(ev, options)))
            out += parts
        if newline:
            out.append("\n")
        return "".join(out)


class RecordView:
    """One evaluation's record in the form an output asks for: a dict, or a line of JSON."""

    __slots__ = ("ev", "encoder")

    def __init__(self, ev: Evaluation, encoder: RecordEncoder):
        self.ev, self.encoder = ev, encoder

    def as_dict(self) -> dict[str, Any]:
        return record(self.ev, self.encoder.options)

    def as_json(self, newline: bool = False) -> str:
        return self.encoder.line(self.ev, newline)
