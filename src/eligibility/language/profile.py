"""Applicant profile (YAML mapping, or a plain dict from JSON Lines / CSV) -> validated Applicant."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import replace
from typing import Any, Mapping

from eligibility.core.errors import InputError, Problem, Problems
from eligibility.language.expr import suggest
from eligibility.language.fields import ID_RE, Reader
from eligibility.language.numeric import NONE
from eligibility.language.model import EVIDENCE_KINDS, Applicant, Evidence, FactSpec, FactValue, Program, Source
from eligibility.language.yamlsafe import Pos, YList, YMap, load_yaml, read_text

PROFILE_KEYS = ("id", "name", "lead", "consortium", "notes", "program", "facts")
ENTRY_KEYS = ("value", "evidence", "date")
UNKNOWN = "unknown"
ABSENT = "none"                # the value of an optional fact known to be absent


def load_applicant(path: str, program: Program, text: str | None = None) -> Applicant:
    """Load a YAML profile and check its facts against the program's fact schema."""
    applicant, problems = check_applicant(path, program, text)
    problems.raise_if_any()
    assert applicant is not None
    return applicant


def check_applicant(path: str, program: Program, text: str | None = None) -> tuple[Applicant | None, Problems]:
    problems = Problems(path)
    if text is None:
        text = read_text(path)
    data = load_yaml(path, text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    applicant = applicant_from_data(data, program, path, digest, problems, require_evidence=True)
    return (None if problems.errors else applicant), problems


def applicant_from_data(data: Any, program: Program, path: str, digest: str, problems: Problems,
                        require_evidence: bool, line: int = 0) -> Applicant | None:
    """Build an Applicant from loaded data: a YAML mapping (every problem at its own line and
    column) or a plain mapping from a JSON line or CSV row (problems at `line`). One reader for
    both: positions are looked up only to report a problem, so a valid record costs the same
    whichever way it came. `require_evidence`: every fact needs a value with evidence (YAML
    profiles); otherwise a fact may be a bare value (bulk inputs)."""
    if not isinstance(data, dict):
        problems.add(line or 1, 1, "a profile must be a mapping with 'id', 'name' and 'facts'")
        return None
    if "criteria" in data and "facts" in data:
        problems.add(line or 1, 1, "this is a rules file (it has 'criteria'), not an applicant profile")
        return None
    return _ProfileReader(problems, program, require_evidence, Pos(line or 1, 1)).read(data, path, digest)


class _ProfileReader(Reader):
    def __init__(self, problems: Problems, program: Program, require_evidence: bool, default: Pos):
        super().__init__(problems, default)
        self.program = program
        self.require_evidence = require_evidence
        self.bare = True            # every fact given as a bare value, with no evidence or date

    def read(self, data: dict, path: str, digest: str) -> Applicant:
        if not data.keys() <= _PROFILE_KEY_SET:
            self.known_keys(data, PROFILE_KEYS, "profile")
        aid = self.text(data, "id", "profile")
        if not aid and "id" in data and data.get("id") is not None:
            self.error(self.where(data, "id"), "profile: 'id' is empty")
        elif aid and not ID_RE.match(aid):
            self.error(self.where(data, "id"), f"profile: invalid id {aid!r}")
        program_id = data.get("program")
        if program_id is not None and not isinstance(program_id, str):
            self.error(self.where(data, "program"), "profile: 'program' must be the id of a program (text)")
        elif program_id is not None and program_id != self.program.id:
            self.error(self.where(data, "program"), f"profile is for program '{program_id}', "
                       f"but the rules are for '{self.program.id}'")
        consortium = data.get("consortium") or []
        if not isinstance(consortium, list) or not all(isinstance(m, str) for m in consortium):
            self.error(self.where(data, "consortium"), "profile: 'consortium' must be a list of names")
            consortium = []
        history: dict[str, tuple[FactValue, ...]] = {}
        bare: dict[str, Any] = {}
        facts = self.mapping(data, "facts", self.start(data), "profile")
        own, family = self.program.facts, self.program.family_facts
        bare_values = not self.require_evidence and not isinstance(facts, YMap)
        line = self.default.line
        for name, entry in (facts or {}).items():
            spec = own.get(name) or family.get(name)
            if spec is None:
                self.error(self.kwhere(facts, name), f"unknown fact '{name}'" + suggest(str(name), family or own)
                           + f" (not in the fact schema of {self.program.id})")
                continue
            if bare_values and type(entry) is not dict and (type(entry) is not list or spec.type == "list"):
                # the usual bulk shape, a bare value of a plain record: read without positions
                value = convert_value(entry, spec) if entry is not None and entry != UNKNOWN and entry != ABSENT \
                    else _INVALID
                if value is _INVALID:
                    value = self.typed(entry, spec, facts, name)     # the other cases, and the problems
                if value is not _INVALID and name in own:
                    bare[name] = value
                continue
            values = self.entries(facts, name, entry, spec)
            # A fact of another version of the program is checked, then left out: this version does not read it.
            if values and name in own:
                if self.bare and len(values) == 1 and not values[0].evidence and not values[0].date:
                    bare[name] = values[0].value
                else:
                    history[name] = values
        return Applicant(path=path, sha256=digest, id=aid, name=self.text(data, "name", "profile", False) or aid,
                         lead=self.text(data, "lead", "profile", False), consortium=tuple(consortium),
                         notes=self.text(data, "notes", "profile", False),
                         **self.facts_of(history, bare))

    def facts_of(self, history: dict, bare: dict) -> dict[str, Any]:
        """The applicant's facts: as bare values when every one was given so, else as a history."""
        if self.bare:
            return {"bare_values": bare, "line": self.default.line}
        for name, value in bare.items():
            history[name] = (FactValue(value, (), "", self.default.line, 1),)
        return {"history": history}

    def entries(self, facts: dict, name: str, entry: Any, spec: FactSpec) -> tuple[FactValue, ...]:
        if isinstance(entry, dict):
            if "value" not in entry:
                self.error(self.where(facts, name), f"fact '{name}': missing 'value'")
                return ()
            values = [self.entry(entry, spec, self.where(facts, name))]
        elif isinstance(entry, list) and entry and all(isinstance(e, dict) for e in entry):
            values = [self.entry(e, spec, self.start(e)) for e in entry]
        elif self.require_evidence:
            self.error(self.where(facts, name), f"fact '{name}': give 'value' and 'evidence' (a bare value has no evidence)")
            return ()
        else:
            value = self.typed(entry, spec, facts, name)
            if value is _INVALID:
                return ()
            pos = self.where(facts, name)
            return (FactValue(value, (), "", pos.line, pos.col),)
        return tuple(v for v in values if v is not None)

    def entry(self, entry: dict, spec: FactSpec, pos: Pos) -> FactValue | None:
        what = f"fact '{spec.name}'"
        self.bare = False
        self.known_keys(entry, ENTRY_KEYS, what)
        if "value" not in entry:
            self.error(self.start(entry), f"{what}: missing 'value'")
            return None
        evidence = self.evidence(entry, what)
        if not evidence and self.require_evidence:
            self.error(self.where(entry, "evidence") if "evidence" in entry else self.kwhere(entry, "value"),
                       f"{what}: no evidence (give at least one source with kind and note)")
        value = self.typed(entry["value"], spec, entry, "value")
        if value is _INVALID:
            return None
        dates = [e.source.date for e in evidence if e.source.date]
        # A value holds from its `date`, else from its earliest source's; it is on record at a date
        # only once some evidence of it had been published (Applicant.fact).
        date = self.date(entry, "date", what) or (min(dates) if dates else "")
        vpos = self.where(entry, "value")
        return FactValue(value=value, evidence=tuple(evidence), date=date, line=vpos.line, col=vpos.col)

    def evidence(self, entry: dict, what: str) -> list[Evidence]:
        raw = entry.get("evidence")
        if raw is None:
            return []
        items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else None
        if items is None:
            self.error(self.where(entry, "evidence"), f"{what}: 'evidence' must be a mapping or a list of them")
            return []
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.error(self.where(items, i) if isinstance(items, YList) else self.where(entry, "evidence"),
                           f"{what}: each evidence item must be a mapping")
                continue
            self.known_keys(item, ("source", "kind", "note"), f"{what} evidence")
            kind = self.text(item, "kind", f"{what} evidence")
            if kind and kind not in EVIDENCE_KINDS:
                self.error(self.where(item, "kind"), f"{what}: evidence kind '{kind}' is not one of "
                           f"{', '.join(EVIDENCE_KINDS)}" + suggest(kind, EVIDENCE_KINDS))
            src = self.mapping(item, "source", self.start(item), f"{what} evidence")
            source = Source(id="", title="")
            if src is not None:
                self.known_keys(src, ("title", "publisher", "date", "url", "locator"), f"{what} source")
                source = Source(id="", title=self.text(src, "title", f"{what} source"),
                                publisher=self.text(src, "publisher", f"{what} source", False),
                                date=self.date(src, "date", f"{what} source"),
                                url=self.text(src, "url", f"{what} source", False),
                                locator=self.text(src, "locator", f"{what} source", False))
            out.append(Evidence(kind=kind, note=self.text(item, "note", f"{what} evidence", False), source=source))
        return out

    def typed(self, raw: Any, spec: FactSpec, parent: Any, key: Any) -> Any:
        """The value converted to the fact's type; None for unknown, NONE for none (an optional fact
        known to be absent); _INVALID after an error. `null` is never read as unknown."""
        if raw == UNKNOWN:
            return None
        if raw is None or (raw == ABSENT and spec.optional):
            if spec.optional:
                return NONE
            self.error(self.where(parent, key), f"fact '{spec.name}': null is not a value of a fact that is not "
                       f"optional: write 'unknown' if it is not known, or declare '{spec.name}' 'optional: true' in "
                       "the rules and write 'none' if it is known to be absent")
            return _INVALID
        value = convert_value(raw, spec)
        if value is _INVALID:
            shown = "text" if isinstance(raw, str) else type(raw).__name__
            article = "an" if spec.type[0] in "aeiou" else "a"
            detail = f"{raw!r} is not {article} {spec.type}" if spec.type not in ("enum", "list") else ""
            if spec.type in ("int", "float") and isinstance(raw, (int, float)) and not isinstance(raw, bool) \
                    and raw == raw and abs(raw) >= 2 ** 53:
                detail = f"{raw!r} is outside the range of exact whole numbers (-2**53, 2**53) that the engine keeps"
            if spec.range is not None and convert_value(raw, replace(spec, range=None)) is not _INVALID:
                detail = f"{raw!r} is outside its range {range_text(spec)}"
            elif spec.type == "enum":
                detail = f"{raw!r} is not one of {', '.join(spec.values)}" + (suggest(raw, spec.values) if isinstance(raw, str) else "")
            elif spec.type == "list":
                detail = f"expected a list of strings{' from ' + ', '.join(spec.values) if spec.values else ''}, got {raw!r}"
            self.error(self.where(parent, key), f"fact '{spec.name}': {detail or shown}")
        return value


_PROFILE_KEY_SET = frozenset(PROFILE_KEYS)


_INVALID = object()


def convert_value(raw: Any, spec: FactSpec) -> Any:
    """Convert a raw value (YAML, JSON or CSV text) to the fact's type; _INVALID if it does not fit."""
    t, kind = spec.type, type(raw)
    if (kind is bool and t == "bool") or (kind is str and t == "enum" and raw in spec.values):
        return raw                   # the usual bulk values, already of their type
    return _CONVERT[t](raw, spec)


def _bool(raw: Any, spec: FactSpec) -> Any:
    if isinstance(raw, str):
        raw = _from_text(raw, "bool")
    return raw if raw is True or raw is False else _INVALID


def _in_range(value: Any, spec: FactSpec) -> bool:
    return spec.range is None or spec.range[0] <= value <= spec.range[1]


def range_text(spec: FactSpec) -> str:
    """A fact's declared range as the rules file writes it, with its unit: `[0, 10] points`."""
    assert spec.range is not None
    return f"[{spec.range[0]}, {spec.range[1]}]" + (f" {spec.unit}" if spec.unit else "")


def _int(raw: Any, spec: FactSpec) -> Any:
    if isinstance(raw, str):
        raw = _from_text(raw, "int")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    ok = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2 ** 53
    return raw if ok and _in_range(raw, spec) else _INVALID


def _float(raw: Any, spec: FactSpec) -> Any:
    if isinstance(raw, str):
        raw = _from_text(raw, "float")
    ok = isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == raw and abs(raw) < 2 ** 53
    return raw if ok and _in_range(raw, spec) else _INVALID


def _string(raw: Any, spec: FactSpec) -> Any:
    return raw if isinstance(raw, str) else _INVALID


def _enum(raw: Any, spec: FactSpec) -> Any:
    return raw if isinstance(raw, str) and raw in spec.values else _INVALID


def _date(raw: Any, spec: FactSpec) -> Any:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(raw) if isinstance(raw, str) else _INVALID
    except ValueError:
        return _INVALID


def _list(raw: Any, spec: FactSpec) -> Any:
    if isinstance(raw, str):
        raw = [s.strip() for s in re.split(r"[;,]", raw) if s.strip()]   # "text;image" or "text,image"
    if not isinstance(raw, (list, tuple)) or not all(isinstance(x, str) for x in raw):
        return _INVALID
    if spec.values and any(x not in spec.values for x in raw):
        return _INVALID
    return tuple(sorted(set(raw)))


_CONVERT = {"bool": _bool, "int": _int, "float": _float, "string": _string, "enum": _enum, "date": _date,
            "list": _list}


def _from_text(raw: str, t: str) -> Any:
    text = raw.strip()
    if t == "bool":
        return {"true": True, "false": False, "yes": True, "no": False}.get(text.lower(), raw)
    try:
        return int(text) if t == "int" else float(text)
    except ValueError:
        return raw


OVERRIDE_LABEL = "what-if"     # how problems and the trace name a fact given for one run


def apply_overrides(applicant: Applicant, program: Program, settings: Mapping[str, Any],
                    note: str = "what-if override", label: str = OVERRIDE_LABEL) -> Applicant:
    """Override facts for one what-if run; the trace marks them as overrides (`label` names where
    they were given)."""
    for name, raw in settings.items():
        spec = program.facts.get(name)
        if spec is None:
            raise InputError(Problem(label, 0, 0, f"unknown fact '{name}'" + suggest(name, program.facts)))
        value = None if raw in (None, UNKNOWN) else NONE if raw == ABSENT and spec.optional else convert_value(raw, spec)
        if value is _INVALID:
            allowed = f" (one of {', '.join(spec.values)})" if spec.values else ""
            if spec.range is not None and convert_value(raw, replace(spec, range=None)) is not _INVALID:
                raise InputError(Problem(label, 0, 0, f"{name}={raw}: outside its range {range_text(spec)}"))
            raise InputError(Problem(label, 0, 0, f"{name}={raw}: not a valid {spec.type}{allowed}"))
        evidence = Evidence(kind="analysis", note=note, source=Source(id="", title=f"{label} override"))
        applicant.overrides[name] = FactValue(value=value, evidence=(evidence,))
    return applicant
