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
from eligibility.language.model import EVIDENCE_KINDS, Applicant, BareApplicant, Evidence, FactSpec, FactValue, Program, Source
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
    """Build an Applicant from loaded data. Plain dicts (JSON Lines, CSV) are reported at `line`."""
    if not isinstance(data, dict):
        problems.add(line or 1, 1, "a profile must be a mapping with 'id', 'name' and 'facts'")
        return None
    if "criteria" in data and "facts" in data:
        problems.add(line or 1, 1, "this is a rules file (it has 'criteria'), not an applicant profile")
        return None
    if not require_evidence and not isinstance(data, YMap):
        fast = plain_applicant(data, program, path, digest, line)
        if fast is not None:
            return fast
    data = _positioned(data, line)
    reader = _ProfileReader(problems, program, require_evidence)
    return reader.read(data, path, digest)


class _ProfileReader(Reader):
    def __init__(self, problems: Problems, program: Program, require_evidence: bool):
        super().__init__(problems)
        self.program = program
        self.require_evidence = require_evidence

    def read(self, data: YMap, path: str, digest: str) -> Applicant:
        self.known_keys(data, PROFILE_KEYS, "profile")
        aid = self.text(data, "id", "profile")
        if aid and not ID_RE.match(aid):
            self.error(data.pos("id"), f"profile: invalid id {aid!r}")
        program_id = data.get("program")
        if program_id is not None and not isinstance(program_id, str):
            self.error(data.pos("program"), "profile: 'program' must be the id of a program (text)")
        elif program_id is not None and program_id != self.program.id:
            self.error(data.pos("program"), f"profile is for program '{program_id}', "
                       f"but the rules are for '{self.program.id}'")
        consortium = data.get("consortium") or []
        if not isinstance(consortium, list) or not all(isinstance(m, str) for m in consortium):
            self.error(data.pos("consortium"), "profile: 'consortium' must be a list of names")
            consortium = []
        history: dict[str, tuple[FactValue, ...]] = {}
        facts = self.mapping(data, "facts", data.start, "profile")
        for name, entry in (facts or {}).items():
            spec = self.program.facts.get(name) or self.program.family_facts.get(name)
            if spec is None:
                known = self.program.family_facts or self.program.facts
                self.error(facts.kpos(name), f"unknown fact '{name}'" + suggest(str(name), known)
                           + f" (not in the fact schema of {self.program.id})")
                continue
            values = self.entries(facts, name, entry, spec)
            # A fact of another version of the program is checked, then left out: this version does not read it.
            if values and name in self.program.facts:
                history[name] = values
        return Applicant(path=path, sha256=digest, id=aid, name=self.text(data, "name", "profile", False) or aid,
                         lead=self.text(data, "lead", "profile", False), consortium=tuple(consortium),
                         notes=self.text(data, "notes", "profile", False), history=history)

    def entries(self, facts: YMap, name: str, entry: Any, spec: FactSpec) -> tuple[FactValue, ...]:
        pos = facts.pos(name)
        if isinstance(entry, YList) and entry and all(isinstance(e, YMap) for e in entry):
            values = [self.entry(e, spec, e.start) for e in entry]
        elif isinstance(entry, YMap) and "value" in entry:
            values = [self.entry(entry, spec, pos)]
        elif isinstance(entry, YMap):
            self.error(pos, f"fact '{name}': missing 'value'")
            return ()
        elif self.require_evidence:
            self.error(pos, f"fact '{name}': give 'value' and 'evidence' (a bare value has no evidence)")
            return ()
        else:
            values = [self.value_only(entry, spec, pos)]
        return tuple(v for v in values if v is not None)

    def entry(self, entry: YMap, spec: FactSpec, pos: Pos) -> FactValue | None:
        what = f"fact '{spec.name}'"
        self.known_keys(entry, ENTRY_KEYS, what)
        if "value" not in entry:
            self.error(entry.start, f"{what}: missing 'value'")
            return None
        evidence = self.evidence(entry, what)
        if not evidence and self.require_evidence:
            self.error(entry.pos("evidence") if "evidence" in entry else entry.kpos("value"),
                       f"{what}: no evidence (give at least one source with kind and note)")
        vpos = entry.pos("value")
        value = self.typed(entry["value"], spec, vpos)
        if value is _INVALID:
            return None
        dates = [e.source.date for e in evidence if e.source.date]
        # A value is on record from its earliest supporting source (as-of evaluation uses this).
        date = self.date(entry, "date", what) or (min(dates) if dates else "")
        return FactValue(value=value, evidence=tuple(evidence), date=date, line=vpos.line, col=vpos.col)

    def value_only(self, raw: Any, spec: FactSpec, pos: Pos) -> FactValue | None:
        value = self.typed(raw, spec, pos)
        return None if value is _INVALID else FactValue(value=value, evidence=(), line=pos.line, col=pos.col)

    def evidence(self, entry: YMap, what: str) -> list[Evidence]:
        raw = entry.get("evidence")
        if raw is None:
            return []
        items = [raw] if isinstance(raw, YMap) else raw if isinstance(raw, YList) else None
        if items is None:
            self.error(entry.pos("evidence"), f"{what}: 'evidence' must be a mapping or a list of them")
            return []
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i) if isinstance(items, YList) else entry.pos("evidence"),
                           f"{what}: each evidence item must be a mapping")
                continue
            self.known_keys(item, ("source", "kind", "note"), f"{what} evidence")
            kind = self.text(item, "kind", f"{what} evidence")
            if kind and kind not in EVIDENCE_KINDS:
                self.error(item.pos("kind"), f"{what}: evidence kind '{kind}' is not one of "
                           f"{', '.join(EVIDENCE_KINDS)}" + suggest(kind, EVIDENCE_KINDS))
            src = self.mapping(item, "source", item.start, f"{what} evidence")
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

    def typed(self, raw: Any, spec: FactSpec, pos: Pos) -> Any:
        """The value converted to the fact's type; None for unknown, NONE for none (an optional fact
        known to be absent); _INVALID after an error. `null` is never read as unknown."""
        if raw == UNKNOWN:
            return None
        if raw is None or (raw == ABSENT and spec.optional):
            if spec.optional:
                return NONE
            self.error(pos, f"fact '{spec.name}': null is not a value of a fact that is not optional: write "
                            f"'unknown' if it is not known, or declare '{spec.name}' 'optional: true' in the rules "
                            "and write 'none' if it is known to be absent")
            return _INVALID
        value = convert_value(raw, spec)
        if value is _INVALID:
            shown = "text" if isinstance(raw, str) else type(raw).__name__
            article = "an" if spec.type[0] in "aeiou" else "a"
            detail = f"{raw!r} is not {article} {spec.type}" if spec.type not in ("enum", "list") else ""
            if spec.range is not None and convert_value(raw, replace(spec, range=None)) is not _INVALID:
                detail = f"{raw!r} is outside its range {range_text(spec)}"
            elif spec.type == "enum":
                detail = f"{raw!r} is not one of {', '.join(spec.values)}" + (suggest(raw, spec.values) if isinstance(raw, str) else "")
            elif spec.type == "list":
                detail = f"expected a list of strings{' from ' + ', '.join(spec.values) if spec.values else ''}, got {raw!r}"
            self.error(pos, f"fact '{spec.name}': {detail or shown}")
        return value


_INVALID = object()


def convert_value(raw: Any, spec: FactSpec) -> Any:
    """Convert a raw value (YAML, JSON or CSV text) to the fact's type; _INVALID if it does not fit."""
    t = spec.type
    if isinstance(raw, str) and t not in ("string", "enum", "list", "date"):
        raw = _from_text(raw, t)
    if t == "bool":
        return raw if isinstance(raw, bool) else _INVALID
    if t == "int":
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        ok = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2 ** 53
        return raw if ok and _in_range(raw, spec) else _INVALID
    if t == "float":
        ok = isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == raw and abs(raw) < 2 ** 53
        return raw if ok and _in_range(raw, spec) else _INVALID
    if t == "string":
        return raw if isinstance(raw, str) else _INVALID
    if t == "enum":
        return raw if isinstance(raw, str) and raw in spec.values else _INVALID
    if t == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(raw) if isinstance(raw, str) else _INVALID
        except ValueError:
            return _INVALID
    if t == "list":
        if isinstance(raw, str):
            raw = [s.strip() for s in re.split(r"[;,]", raw) if s.strip()]   # "text;image" or "text,image"
        if not isinstance(raw, (list, tuple)) or not all(isinstance(x, str) for x in raw):
            return _INVALID
        if spec.values and any(x not in spec.values for x in raw):
            return _INVALID
        return tuple(sorted(set(raw)))
    return _INVALID


def _in_range(value: Any, spec: FactSpec) -> bool:
    return spec.range is None or spec.range[0] <= value <= spec.range[1]


def range_text(spec: FactSpec) -> str:
    """A fact's declared range as the rules file writes it, with its unit: `[0, 10] points`."""
    assert spec.range is not None
    return f"[{spec.range[0]}, {spec.range[1]}]" + (f" {spec.unit}" if spec.unit else "")


def plain_applicant(data: dict, program: Program, path: str, digest: str, line: int) -> Applicant | None:
    """The applicant of a plain, well-formed profile with bare fact values (JSON Lines, CSV rows).

    Bulk inputs are mostly of this simple shape; it is read here without building positioned
    copies. Anything unusual returns None, and the full reader checks it and reports problems,
    so both paths accept exactly the same profiles."""
    if not data.keys() <= _PROFILE_KEY_SET:
        return None
    get = data.get
    aid = get("id")
    name, lead, notes, consortium = get("name", aid), get("lead"), get("notes"), get("consortium") or []
    if type(aid) is not str or type(name) is not str or type(consortium) is not list:
        return None
    aid = aid.strip()
    if not ID_RE.match(aid) or get("program", program.id) != program.id:
        return None
    lead = "" if lead is None else lead
    notes = "" if notes is None else notes
    if type(lead) is not str or type(notes) is not str:
        return None
    for member in consortium:
        if type(member) is not str:
            return None
    facts = get("facts")
    if type(facts) is not dict:
        return None
    specs, common, bare = program.facts, program.made_once(_common_values), {}
    for fact, raw in facts.items():
        kind = type(raw)
        # common values are looked up: text, booleans and lists of text (keys that never equal
        # one another: a str or bool key never equals an int, nor a tuple of str a tuple of int)
        if kind is str or kind is bool:
            value = common.get(fact, _NO_TABLE).get(raw, _INVALID)
        elif kind is list:
            try:
                value = common.get(fact, _NO_TABLE).get(tuple(raw), _INVALID)
            except TypeError:                     # an item that cannot be a key: not a list of text
                value = _INVALID
        else:
            value = _INVALID
        if value is _INVALID:
            spec = specs.get(fact)
            if spec is None or kind is dict or (kind is list and spec.type != "list"):
                return None
            if raw is None:
                if not spec.optional:
                    return None               # the full reader reports it
                value = NONE
            elif kind is int and spec.type == "int" and -2 ** 53 < raw < 2 ** 53 and spec.range is None:
                value = raw
            else:
                value = convert_value(raw, spec)
                if value is _INVALID:
                    return None
                table = common[fact]
                if kind is list and len(table) < _COMMON_LISTS:
                    table[tuple(raw)] = value
        bare[fact] = value
    return BareApplicant(path=path, sha256=digest, id=aid, name=name.strip() or aid, lead=lead.strip(),
                         consortium=tuple(consortium), notes=notes.strip(), bare=bare, line=line or 1)


_PROFILE_KEY_SET = frozenset(PROFILE_KEYS)
_NO_TABLE: dict = {}
_COMMON_LISTS = 256          # lists of text remembered per list fact


def _common_values(program: Program) -> dict[str, dict[Any, Any]]:
    """Per fact, the bare values most profiles hold, with what `convert_value` makes of them:
    `unknown`, true and false for a bool fact, the allowed values of an enum, and for a list
    fact (as a tuple) each list of text seen, up to _COMMON_LISTS of them."""
    tables: dict[str, dict[Any, Any]] = {}
    for name, spec in program.facts.items():
        table: dict[Any, Any] = {UNKNOWN: None}
        if spec.optional:
            table[ABSENT] = NONE
        if spec.type == "bool":
            table.update({True: True, False: False})
        elif spec.type == "enum":
            table.update((v, v) for v in spec.values if v != UNKNOWN)
        tables[name] = table
    return tables



def _from_text(raw: str, t: str) -> Any:
    text = raw.strip()
    if t == "bool":
        return {"true": True, "false": False, "yes": True, "no": False}.get(text.lower(), raw)
    try:
        return int(text) if t == "int" else float(text)
    except ValueError:
        return raw


def _positioned(data: Any, line: int) -> Any:
    """Give plain dicts/lists (from JSON or CSV) the position interface of YMap/YList."""
    if isinstance(data, (YMap, YList)):
        return data
    pos = Pos(line or 1, 1)
    if isinstance(data, dict):
        out = YMap((k, _positioned(v, line)) for k, v in data.items())
        out.start, out.key_pos, out.value_pos = pos, {}, {}
        return out
    if isinstance(data, list):
        out = YList(_positioned(v, line) for v in data)
        out.start, out.item_pos = pos, [pos] * len(out)
        return out
    return data


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
