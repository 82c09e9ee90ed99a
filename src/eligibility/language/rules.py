"""Rules file (YAML) -> validated, type-checked Program, with every problem located."""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any, Callable, Mapping, Optional, Sequence

from eligibility.core.errors import Problems
from eligibility.language.static import constant_conditions
from eligibility.language.expr import ExprError, Node, Ref, Scope, parse_condition, parse_value, suggest
from eligibility.language.fields import ID_RE, Reader
from eligibility.language.basis import BASES, Basis
from eligibility.language.numeric import TODAY, Expr, facts_of, params_of
from eligibility.language.points import parse_points
from eligibility.language.rankby import rank_facts, read_rank_by
from eligibility.language.model import (CRITERION_KINDS, FACT_TYPES, LEAVES, ComputedValue, Concept, Criterion, DatedValue, DecisionPolicy,
                                        FactSpec, Parameter, Program,
                    ProgramStage, ProgramVersion, Source, SourceClause, leaf_facts, leaf_params)
from eligibility.language.sources import RulesSource, source_for
from eligibility.language.yamlsafe import Pos, YList, YMap, load_yaml

TOP_KEYS = ("program", "facts", "parameters", "computed", "concepts", "criteria", "decision")
PARAM_TYPES = ("int", "float", "bool", "string", "date", "list")
MAX_PARAM_LIST = 200
TIE_BREAKS = ("criteria_order", "gates_met", "name", "id")
OVERRIDE_LABEL = "parameter override"   # how problems name a parameter given for one run
MAX_FACTS = 200        # the engine stores at most 253 fields per fact, list facts take two


# Which of a dated parameter's values is in force on a date: (effective dates, as-of) -> index or None.
# `language.versions.value_in_force` is the one answer; the loader is handed it with the date.
InForce = Callable[[Sequence[str], str], Optional[int]]


def load_program(path: str, params: Mapping[str, Any] | None = None, text: str | None = None,
                 source: RulesSource | None = None, params_label: str = OVERRIDE_LABEL,
                 as_of: tuple[str, InForce] | None = None) -> Program:
    """Load and check a rules file. `params` overrides parameter values for one run; `as_of`
    (a date and how to choose on it) picks each dated parameter's value, else its latest.

    Raises InputError listing every problem found (errors only; `check_program` also returns
    the warnings)."""
    program, problems = check_program(path, params, text, source=source, params_label=params_label, as_of=as_of)
    problems.raise_if_any()
    assert program is not None
    return program


def check_program(path: str, params: Mapping[str, Any] | None = None, text: str | None = None,
                  _version_of: str = "", source: RulesSource | None = None,
                  params_label: str = OVERRIDE_LABEL,
                  as_of: tuple[str, InForce] | None = None) -> tuple[Program | None, Problems]:
    """Load a rules file, returning (program or None, all problems including warnings).

    The later versions a main rules file lists (`program.versions`) are checked too, and
    their fact schemas make up `family_facts`; `_version_of` names the main file while one
    of its versions is being checked."""
    problems = Problems(path)
    source = source or source_for(path)
    if text is None:
        text = source.text(path)
    data = load_yaml(path, text)
    if not isinstance(data, YMap):
        problems.add(1, 1, "a rules file must be a YAML mapping with 'program', 'facts' and 'criteria'")
        return None, problems
    if "criteria" not in data and not isinstance(data.get("program"), dict) and ("id" in data or "name" in data):
        problems.add(1, 1, "this looks like an applicant profile (it has 'id' or 'name' and no 'criteria'), "
                     "not a rules file")
        return None, problems
    program = _Loader(path, text, problems, params or {}, source, _version_of, params_label, as_of).load(data)
    return (None if problems.errors else program), problems


class _Loader(Reader):
    def __init__(self, path: str, text: str, problems: Problems, overrides: Mapping[str, Any],
                 source: RulesSource, version_of: str = "", params_label: str = OVERRIDE_LABEL,
                 as_of: tuple[str, InForce] | None = None):
        super().__init__(problems)
        self.as_of = as_of
        self.path, self.raw, self.overrides, self.version_of = path, text, overrides, version_of
        self.source = source
        self.override_label = params_label
        self.lines = text.splitlines()
        self.next_id = 0
        self.pending_clauses: list[tuple] = []

    def load(self, data: YMap) -> Program:
        self.known_keys(data, TOP_KEYS, "rules file")
        meta = self.mapping(data, "program", data.start, "rules file") or YMap()
        if not hasattr(meta, "start"):
            meta.start, meta.key_pos, meta.value_pos = data.start, {}, {}
        sources = self.sources(meta)
        facts = self.facts(data)
        parameters = self.parameters(data)
        self.unique_names(facts, parameters, data)
        concept_items = self.seq(data, "concepts", "rules file") or YList()
        concept_ids = [c.get("id") for c in concept_items if isinstance(c, YMap)]
        concept_names = {c: True for c in concept_ids if isinstance(c, str)}
        computed = self.computed(data, Scope(facts, concept_names, parameters))
        scope = Scope(facts, concept_names, parameters, {name: c.expr for name, c in computed.items()})
        concepts = self.concepts(concept_items, scope)
        criteria = self.criteria(data, scope, sources, parameters)
        decision = self.decision(data, parameters, facts, computed)
        cycles = len(self.problems.items) + self.problems.more
        self.check_cycles(concepts, concept_items)
        if len(self.problems.items) + self.problems.more == cycles:
            self.constant_conditions(facts, concepts, criteria)
        self.unused_facts(facts, concepts, criteria, data, rank_facts(decision, computed))
        self.unused_names(parameters, concepts, criteria, decision, data, concept_items)
        program = Program(
            path=self.path, sha256=hashlib.sha256(self.raw.encode("utf-8")).hexdigest(),
            id=self.text_id(meta), title=self.text(meta, "title", "program"),
            authority=self.text(meta, "authority", "program", required=False),
            dates=self.dates(meta), budget=dict(meta.get("budget") or {}) if isinstance(meta.get("budget"), dict) else {},
            sources=sources, facts=facts, parameters=parameters, concepts=concepts,
            criteria=criteria, decision=decision,
            version=self.text(meta, "version", "program", required=False),
            effective=self.date(meta, "effective", "program"), computed=computed)
        self.clause_dates(sources, program.effective)
        program.family_facts = dict(facts)
        program.versions = self.versions(meta, program)
        program.stages = self.stages(meta, program)
        return program

    def stages(self, meta: YMap, program: Program) -> tuple[ProgramStage, ...]:
        """`program.stages`: the programme as a sequence of stages, each with its decision date, its
        rules file (relative to this one; none: the program's version in force on that date) and
        the bool fact that marks its entrants."""
        items = self.seq(meta, "stages", "program") or YList()
        out: list[ProgramStage] = []
        previous = ""
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), "program stages: each stage is a mapping with 'id', 'date' and 'file'")
                continue
            self.known_keys(item, ("id", "title", "date", "file", "entrants", "judges"), "program stage")
            sid = self.text(item, "id", "program stage")
            date = self.date(item, "date", "program stage", required=True)
            if not sid or not date:
                continue
            if previous and date <= previous:
                self.error(item.pos("date"), f"program stage '{sid}': date {date} must come after {previous}")
            previous = date
            file = self.text(item, "file", "program stage", required=False)
            path = self.source.resolve(self.path, file) if file else ""
            if file and not self.source.exists(path):
                self.error(item.pos("file"), f"program stage '{sid}': file not found: {path}")
                continue
            entrants = self.text(item, "entrants", "program stage", required=False)
            if entrants and (entrants not in program.family_facts or program.family_facts[entrants].type != "bool"):
                self.error(item.pos("entrants"), f"program stage '{sid}': entrants must name a bool fact "
                                                 f"of the program, not '{entrants}'")
            judges = self.text(item, "judges", "program stage", required=False) or "all"
            if judges not in ("all", "entrants"):
                self.error(item.pos("judges"), f"program stage '{sid}': judges must be 'all' or 'entrants'")
            out.append(ProgramStage(sid, self.text(item, "title", "program stage", required=False) or sid, date,
                                    path, entrants, judges == "entrants", item.start.line))
        return tuple(out)

    def versions(self, meta: YMap, program: Program) -> tuple[ProgramVersion, ...]:
        """`program.versions`: later rule versions, each a complete rules file with an effective date."""
        items = self.seq(meta, "versions", "program") or YList()
        if not items:
            return ()
        if self.version_of:
            self.error(meta.kpos("versions"), f"program versions are listed in the main rules file "
                                              f"({self.version_of}) only")
            return ()
        if not program.effective:
            self.error(meta.kpos("versions"), "program: give 'effective' (the date this file takes effect) "
                                              "when listing later versions")
        out: list[ProgramVersion] = []
        previous = program.effective
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), "program versions: each version is a mapping with 'effective' and 'file'")
                continue
            self.known_keys(item, ("effective", "file"), "program version")
            effective = self.date(item, "effective", "program version", required=True)
            file = self.text(item, "file", "program version")
            if not effective or not file:
                continue
            if previous and effective <= previous:
                self.error(item.pos("effective"), f"program version {file}: effective date {effective} "
                                                  f"must come after {previous}")
            previous = effective
            path = self.source.resolve(self.path, file)
            if not self.source.exists(path):
                self.error(item.pos("file"), f"program version: file not found: {path}")
                continue
            version, problems = check_program(path, _version_of=self.path, source=self.source)
            self.problems.extend(problems.items)
            if version is None:
                continue
            if version.id != program.id:
                self.error(item.pos("file"), f"program version {file} is for program '{version.id}', "
                                             f"not '{program.id}'")
            if version.effective and version.effective != effective:
                self.error(item.pos("effective"), f"program version {file}: effective {effective} here, "
                                                  f"but {version.effective} in the file")
            for name, spec in version.facts.items():
                known = program.family_facts.setdefault(name, spec)
                if (known.type, known.values) != (spec.type, spec.values):
                    self.error(item.pos("file"), f"fact '{name}' is a {spec.type} in {file} but a "
                                                 f"{known.type} elsewhere in the program (same name, same type)")
            out.append(ProgramVersion(effective, file, path, item.start.line))
        return tuple(out)

    # -- program metadata ------------------------------------------------------------
    def text_id(self, meta: YMap) -> str:
        value = self.text(meta, "id", "program")
        if value and not ID_RE.match(value):
            self.error(meta.pos("id"), f"program: invalid id {value!r}")
        return value

    def dates(self, meta: YMap) -> dict[str, str]:
        dates = self.mapping(meta, "dates", meta.start, "program", required=False)
        return {str(k): self.date(dates, k, "program dates") for k in dates} if dates else {}

    def sources(self, meta: YMap) -> dict[str, Source]:
        out: dict[str, Source] = {}
        items = self.seq(meta, "sources", "program") or YList()
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), "program sources: each source must be a mapping")
                continue
            self.known_keys(item, ("id", "title", "publisher", "date", "reports", "url", "locator"), "source")
            sid = self.text(item, "id", "source")
            if sid in out:
                self.error(item.pos("id"), f"duplicate source id '{sid}'")
            out[sid] = Source(id=sid, title=self.text(item, "title", "source"),
                              publisher=self.text(item, "publisher", "source", required=False),
                              date=self.date(item, "date", "source"),
                              url=self.text(item, "url", "source", required=False),
                              locator=self.text(item, "locator", "source", required=False),
                              reports=self.date(item, "reports", "source"))
        return out

    # -- fact schema and parameters ------------------------------------------------
    def facts(self, data: YMap) -> dict[str, FactSpec]:
        out: dict[str, FactSpec] = {}
        facts = self.mapping(data, "facts", data.start, "rules file")
        if facts is None:
            return out
        if len(facts) > MAX_FACTS:
            self.error(facts.start, f"{len(facts)} facts declared; the engine supports at most {MAX_FACTS}")
        for name, spec in facts.items():
            kpos = facts.kpos(name)
            if not self.name(name, kpos, "fact"):
                continue
            if not isinstance(spec, YMap):
                self.error(facts.pos(name), f"fact '{name}': expected a mapping with 'type'")
                continue
            self.known_keys(spec, ("type", "description", "unit", "values", "items", "range", "optional"),
                            f"fact '{name}'")
            ftype = self.text(spec, "type", f"fact '{name}'")
            if ftype and ftype not in FACT_TYPES:
                self.error(spec.pos("type"), f"fact '{name}': unknown type '{ftype}'" + suggest(ftype, FACT_TYPES)
                           + f"; types: {', '.join(FACT_TYPES)}")
                continue
            values = self.allowed_values(spec, name, ftype)
            out[name] = FactSpec(name=name, type=ftype, description=self.text(spec, "description", "fact", False),
                                 unit=self.text(spec, "unit", "fact", False), values=values, line=kpos.line,
                                 range=self.fact_range(spec, name, ftype), optional=self.optional(spec, name, ftype))
        return out

    def optional(self, spec: YMap, name: str, ftype: str) -> bool:
        """`optional: true`: the fact may be `none` in a profile (known to be absent)."""
        raw = spec.get("optional", False)
        if not isinstance(raw, bool):
            self.error(spec.pos("optional"), f"fact '{name}': 'optional' is true or false")
            return False
        if raw and ftype == "list":
            self.error(spec.kpos("optional"), f"fact '{name}': a list fact is empty rather than none; "
                                              "drop 'optional'")
            return False
        if raw and "none" in (spec.get("values") or ()):
            self.error(spec.kpos("optional"), f"fact '{name}': 'none' is one of its values, so it cannot also be "
                                              "optional; rename that value")
            return False
        return raw

    def fact_range(self, spec: YMap, name: str, ftype: str) -> tuple[Any, Any] | None:
        """`range: [low, high]` of a number fact: every value given for it must lie within."""
        if "range" not in spec:
            return None
        raw = spec["range"]
        if ftype not in ("int", "float"):
            self.error(spec.kpos("range"), f"fact '{name}': 'range' applies to int and float facts only")
            return None
        ok = isinstance(raw, YList) and len(raw) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 2 ** 53
            and (ftype == "float" or isinstance(v, int)) for v in raw)
        if not ok or raw[0] > raw[1]:
            whole = "whole numbers " if ftype == "int" else "numbers "
            self.error(spec.pos("range"), f"fact '{name}': 'range' must be [lowest, highest], two {whole}"
                                          "with lowest <= highest")
            return None
        return raw[0], raw[1]

    def allowed_values(self, spec: YMap, name: str, ftype: str) -> tuple[str, ...]:
        key = "values" if ftype == "enum" else "items" if ftype == "list" else None
        for other in ("values", "items"):
            if other in spec and other != key:
                self.error(spec.kpos(other), f"fact '{name}': '{other}' does not apply to type {ftype}")
        if key is None:
            return ()
        items = spec.get(key)
        if items is None:
            if ftype == "enum":
                self.error(spec.start, f"fact '{name}': an enum needs 'values'")
            return ()
        if not isinstance(items, YList) or not items or not all(isinstance(v, str) and v for v in items):
            self.error(spec.pos(key), f"fact '{name}': '{key}' must be a non-empty list of strings")
            return ()
        if "unknown" in items:
            self.error(spec.pos(key), f"fact '{name}': 'unknown' is reserved for unknown values")
        if len(set(items)) != len(items):
            self.error(spec.pos(key), f"fact '{name}': '{key}' lists a value twice")
        return tuple(items)

    def parameters(self, data: YMap) -> dict[str, Parameter]:
        out: dict[str, Parameter] = {}
        params = self.mapping(data, "parameters", data.start, "rules file", required=False)
        for name, spec in (params or {}).items():
            kpos = params.kpos(name)
            if not self.name(name, kpos, "parameter"):
                continue
            if not isinstance(spec, YMap):
                spec_map = YMap({"value": spec})
                spec_map.start, spec_map.key_pos, spec_map.value_pos = params.pos(name), {}, {"value": params.pos(name)}
                spec = spec_map
            self.known_keys(spec, ("type", "value", "values", "description", "unit", "basis"), f"parameter '{name}'")
            if ("value" in spec) == ("values" in spec):
                self.error(spec.start, f"parameter '{name}': give 'value', or 'values' (a list of dated values), "
                                       f"not {'both' if 'value' in spec else 'neither'}")
                continue
            history = self.dated_values(spec, name) if "values" in spec else ()
            if "values" in spec and not history:
                continue
            chosen = self.in_force(history, name, spec) if history else None
            if history and chosen is None:
                continue
            value = chosen.value if chosen else spec["value"]
            ptype = self.text(spec, "type", f"parameter '{name}'", required=False) or _type_of(value)
            if ptype not in PARAM_TYPES:
                self.error(spec.pos("type"), f"parameter '{name}': unknown type '{ptype}'" + suggest(ptype, PARAM_TYPES))
                continue
            if isinstance(value, YList):
                value = tuple(value)
            for i, entry in enumerate(history):
                if entry is not chosen and not _fits(entry.value, ptype):
                    self.error(spec["values"][i].pos("value"), f"parameter '{name}': value {entry.value!r} "
                                                               f"(from {entry.effective}) is not of type {ptype}")
            rules_value, overridden = value, name in self.overrides
            if overridden:
                value = self.coerce_override(name, ptype, self.overrides[name])
                if value is None:          # reported; keep the file's value so nothing else cascades
                    value, overridden = rules_value, False
            if not overridden and not _fits(value, ptype):
                where = spec["values"][history.index(chosen)].pos("value") if chosen else spec.pos("value")
                self.error(where, f"parameter '{name}': value {value!r} is not of type {ptype}")
                continue
            basis = self.basis(spec, "basis", f"parameter '{name}'", warn_missing=not history)
            out[name] = Parameter(name=name, type=ptype, value=value,
                                  description=self.text(spec, "description", "parameter", False),
                                  unit=self.text(spec, "unit", "parameter", False), line=kpos.line,
                                  overridden=overridden, rules_value=rules_value if overridden else None,
                                  basis=(chosen.basis or basis) if chosen else basis,
                                  effective=chosen.effective if chosen else "", values=history)
        for name in self.overrides:
            if name not in out and not (params and name in params):
                self.problems.add(0, 0, f"{self.override_label} {name}: no such parameter"
                                  + suggest(name, list(params or ())))
        return out

    def dated_values(self, spec: YMap, name: str) -> tuple[DatedValue, ...]:
        """`values:` a parameter's history, each entry `{effective, value, basis}`, dates strictly
        increasing; () after reporting a problem."""
        what = f"parameter '{name}'"
        items = spec["values"]
        if not isinstance(items, YList) or not items:
            self.error(spec.pos("values"), f"{what}: 'values' must be a list of {{effective, value, basis}}")
            return ()
        out: list[DatedValue] = []
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), f"{what}: each dated value is a mapping with 'effective' and 'value'")
                return ()
            self.known_keys(item, ("effective", "value", "basis"), f"{what} dated value")
            effective = self.date(item, "effective", f"{what} dated value", required=True)
            if "value" not in item:
                self.error(item.start, f"{what} dated value: missing 'value'")
            if not effective or "value" not in item:
                return ()
            if out and effective <= out[-1].effective:
                self.error(item.pos("effective"), f"{what}: effective date {effective} "
                                                  + ("is given twice" if effective == out[-1].effective else
                                                     f"must come after {out[-1].effective} (dates in order)"))
                continue          # reported; the others still define the parameter (no cascade)
            value = tuple(item["value"]) if isinstance(item["value"], YList) else item["value"]
            basis = self.basis(item, "basis", f"{what} value from {effective}", warn_missing="basis" not in spec)
            out.append(DatedValue(effective, value, basis))
        return tuple(out)

    def in_force(self, history: tuple[DatedValue, ...], name: str, spec: YMap) -> DatedValue | None:
        """The dated value in force on the as-of date (the latest when the file is used as written);
        None after reporting that none is in force on the date."""
        index = self.as_of[1]([v.effective for v in history], self.as_of[0]) if self.as_of else len(history) - 1
        if index is None:
            assert self.as_of is not None
            self.error(spec.pos("values"), f"parameter '{name}' has no value in force on {self.as_of[0]}: "
                                           f"its first takes effect on {history[0].effective}")
            return None
        return history[index]

    def computed(self, data: YMap, scope: Scope) -> dict[str, ComputedValue]:
        """`computed:` named numbers or dates, each a formula over facts, parameters and the
        computed values above it (so there is no cycle)."""
        out: dict[str, ComputedValue] = {}
        items = self.mapping(data, "computed", data.start, "rules file", required=False)
        for name, spec in (items or {}).items():
            kpos = items.kpos(name)
            if not self.name(name, kpos, "computed value"):
                continue
            if name == TODAY:
                self.error(kpos, f"'{TODAY}' is reserved for the evaluation date: choose another name")
                continue
            if name in scope.facts or name in scope.parameters or name in scope.concepts:
                kind = "fact" if name in scope.facts else "parameter" if name in scope.parameters else "concept"
                self.error(kpos, f"computed value '{name}': the name is already used by a {kind}")
                continue
            holder, key = items, name
            if isinstance(spec, YMap):
                self.known_keys(spec, ("formula", "description", "unit"), f"computed value '{name}'")
                holder, key = spec, "formula"
            formula = holder.get(key)
            if not isinstance(formula, (str, int, float)) or isinstance(formula, bool):
                self.error(holder.pos(key) if key in holder else kpos,
                           f"computed value '{name}': give a formula, e.g. \"4*innovation + 3*impact\"")
                continue
            formula = str(formula)
            here = Scope(scope.facts, scope.concepts, scope.parameters, {n: c.expr for n, c in out.items()})
            try:
                expr = parse_value(formula, here)
            except ExprError as exc:
                line, col = self.locate(holder.pos(key), formula, exc.offset)
                later = " (a computed value may use only those defined above it)" if "unknown name" in exc.message \
                    and any(exc.message.startswith(f"unknown name '{n}'") for n in items) else ""
                self.problems.add(line, col, f"computed value '{name}': {exc.message}{later}")
                continue
            meta = spec if isinstance(spec, YMap) else YMap()
            out[name] = ComputedValue(name, formula, expr, description=self.text(meta, "description", "computed", False),
                                      unit=self.text(meta, "unit", "computed", False), line=kpos.line)
        return out

    def coerce_override(self, name: str, ptype: str, raw: Any) -> Any:
        value = _coerce(raw, ptype)
        if value is None:
            self.problems.add(0, 0, f"{self.override_label} {name}={raw}: not a valid {ptype}")
        return value

    def unique_names(self, facts: dict, parameters: dict, data: YMap) -> None:
        for kind, names in (("facts", facts), ("parameters", parameters)):
            if TODAY in names:
                self.error(data[kind].kpos(TODAY), f"'{TODAY}' is reserved for the evaluation date (the --as-of "
                                                   "date, else the day of the run): choose another name")
        for name in set(facts) & set(parameters):
            self.error(data["parameters"].kpos(name), f"'{name}' is both a fact and a parameter")

    # -- conditions ---------------------------------------------------------------------
    def condition(self, item: YMap, scope: Scope, what: str) -> tuple[str, Node | None]:
        text = item.get("condition")
        if not isinstance(text, (str, bool)) or (isinstance(text, str) and not text.strip()):
            pos = item.pos("condition") if "condition" in item else item.start
            self.error(pos, f"{what}: missing or empty 'condition'")
            return "", None
        if isinstance(text, bool):
            self.error(item.pos("condition"), f"{what}: a condition must be an expression, not a constant")
            return "", None
        try:
            node = parse_condition(text, scope)
        except ExprError as exc:
            line, col = self.locate(item.pos("condition"), text, exc.offset)
            self.problems.add(line, col, f"{what}: {exc.message}")
            return text, None
        for n in node.walk():
            n.id = self.next_id
            n.line, n.col = self.locate(item.pos("condition"), text, n.offset)
            self.next_id += 1
        return text, node

    def locate(self, pos: Pos, text: str, offset: int) -> tuple[int, int]:
        """File line and column of character `offset` of the condition that starts at `pos`."""
        if pos.style in (None, "'", '"'):
            raw = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
            start = pos.col - 1 + (1 if pos.style else 0)
            if raw[start:start + len(text)] == text or pos.style is None:
                return pos.line, start + offset + 1
        # Block scalars: find the text's first line below the key, then count characters.
        consumed, line = 0, pos.line + (1 if pos.style in ("|", ">") else 0)
        for n in range(line, len(self.lines) + 1):
            raw = self.lines[n - 1]
            body = raw.strip()
            if not body:
                continue
            indent = len(raw) - len(raw.lstrip())
            if consumed + len(body) >= offset:
                return n, indent + (offset - consumed) + 1
            consumed += len(body) + 1
        return pos.line, pos.col

    def concepts(self, items: YList, scope: Scope) -> dict[str, Concept]:
        out: dict[str, Concept] = {}
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), "concepts: each concept must be a mapping with 'id' and 'condition'")
                continue
            self.known_keys(item, ("id", "title", "description", "condition"), "concept")
            cid = item.get("id")
            if not self.name(cid, item.pos("id") if "id" in item else item.start, "concept id"):
                continue
            if cid in seen:
                self.error(item.pos("id"), f"duplicate concept id '{cid}' (first at line {seen[cid]})")
                self.condition(item, scope, f"concept '{cid}' (duplicate)")
                continue
            seen[cid] = item.pos("id").line
            if cid in scope.facts or cid in scope.parameters:
                kind = "fact" if cid in scope.facts else "parameter"
                self.error(item.pos("id"), f"concept '{cid}': the name is already used by a {kind}")
                continue
            text, node = self.condition(item, scope, f"concept '{cid}'")
            if node is not None:
                out[cid] = Concept(id=cid, title=self.text(item, "title", "concept", False) or cid,
                                   condition_text=text, condition=node, line=item.start.line)
        return out

    def criteria(self, data: YMap, scope: Scope, sources: dict, parameters: dict) -> list[Criterion]:
        out: list[Criterion] = []
        seen: dict[str, int] = {}
        published_seen = 0
        items = self.seq(data, "criteria", "rules file", required=True) or YList()
        if "criteria" in data and not items:
            self.error(data.pos("criteria"), "rules file: 'criteria' is empty")
        for i, item in enumerate(items):
            if not isinstance(item, YMap):
                self.error(items.pos(i), "criteria: each criterion must be a mapping")
                continue
            self.known_keys(item, ("id", "title", "kind", "description", "points", "condition", "source", "basis",
                                   "points_basis", "published_decision"), "criterion")
            cid = item.get("id")
            if not self.name(cid, item.pos("id") if "id" in item else item.start, "criterion id", ID_RE):
                continue
            if cid in seen:
                self.error(item.pos("id"), f"duplicate criterion id '{cid}' (first at line {seen[cid]})")
                self.condition(item, scope, f"criterion '{cid}' (duplicate)")   # still report its own problems
                continue
            seen[cid] = item.pos("id").line
            what = f"criterion '{cid}'"
            kind = self.text(item, "kind", what)
            if kind not in CRITERION_KINDS:
                if kind:
                    self.error(item.pos("kind"), f"{what}: kind must be 'gate', 'scored' or 'published'"
                               + suggest(kind, CRITERION_KINDS))
                continue
            if kind == "published" and published_seen:
                self.error(item.pos("kind"), f"{what}: a rules file has at most one published criterion "
                                             f"(the first is at line {published_seen})")
                continue
            if kind == "published":
                published_seen = item.pos("kind").line
            points, points_param, points_expr = self.points(item, kind, parameters, what, scope)
            text, node = self.condition(item, scope, what)
            source = self.source_clause(item, sources, what)
            basis = self.basis(item, "basis", what, warn_missing=True)
            points_basis = self.basis(item, "points_basis", what, warn_missing=kind == "scored" and not points_param)
            if kind != "scored" and "points_basis" in item:
                self.error(item.kpos("points_basis"), f"{what}: a {_noun(kind)} has no points, so no 'points_basis'")
            if points_basis is None and points_param in parameters:
                points_basis = parameters[points_param].basis
            published = self.published_decision(item, kind, what)
            if node is not None:
                out.append(Criterion(id=cid, title=self.text(item, "title", what, False) or cid, kind=kind,
                                     condition_text=text, condition=node,
                                     description=self.text(item, "description", what, False),
                                     points=points, points_param=points_param, source=source,
                                     points_expr=points_expr, points_text=item["points"] if points_expr else "",
                                     line=item.start.line, basis=basis,
                                     points_basis=points_basis if kind == "scored" else None,
                                     published_decision=published))
        return out

    def published_decision(self, item: YMap, kind: str, what: str) -> bool:
        """`published_decision: true`: the gate records the authority's published decision (a fact
        with its evidence), whose per-applicant reasons were not published."""
        value = item.get("published_decision", False)
        if not isinstance(value, bool):
            self.error(item.pos("published_decision"), f"{what}: published_decision must be true or false")
            return False
        if value and kind != "gate":
            self.error(item.pos("published_decision"), f"{what}: only a gate can record a published decision")
            return False
        return value

    def points(self, item: YMap, kind: str, parameters: dict, what: str,
               scope: Scope) -> tuple[float, str, Expr | None]:
        """A scored criterion's points: a number, a parameter, or an expression (language/points.py)."""
        if kind != "scored":
            if "points" in item:
                self.error(item.kpos("points"), f"{what}: a {_noun(kind)} has no points")
            return 0, "", None
        raw = item.get("points")
        if isinstance(raw, str) and raw not in parameters:
            try:
                expr, highest = parse_points(raw, scope)
            except ExprError as exc:
                line, col = self.locate(item.pos("points"), raw, exc.offset)
                self.problems.add(line, col, f"{what}: points: {exc.message}")
                return 0, "", None
            return highest, "", expr
        value, param = self.number_or_param(item, "points", parameters, what)
        if value is None:
            return 0, "", None
        if value < 0:
            self.error(item.pos("points"), f"{what}: points must not be negative")
        return value, param, None

    def number_or_param(self, item: YMap, key: str, parameters: dict, what: str) -> tuple[Any, str]:
        if key not in item or item[key] is None:
            self.error(item.start, f"{what}: missing '{key}'")
            return None, ""
        raw = item[key]
        if isinstance(raw, str):
            param = parameters.get(raw)
            if param is None:
                self.error(item.pos(key), f"{what}: '{key}' names unknown parameter '{raw}'" + suggest(raw, parameters))
                return None, ""
            if param.type not in ("int", "float"):
                self.error(item.pos(key), f"{what}: parameter '{raw}' is {param.type}, not a number")
                return None, ""
            return param.value, raw
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            self.error(item.pos(key), f"{what}: '{key}' must be a finite number or a parameter name")
            return None, ""
        return raw, ""

    def source_clause(self, item: YMap, sources: dict, what: str) -> SourceClause | None:
        src = self.mapping(item, "source", item.start, what, required=False)
        if src is None:
            self.warn(item.start, f"{what}: no 'source' clause: cite the text this rule encodes")
            return None
        self.known_keys(src, ("ref", "clause"), f"{what} source")
        ref = self.text(src, "ref", f"{what} source")
        if ref and ref not in sources:
            self.error(src.pos("ref"), f"{what}: source '{ref}' is not in program.sources" + suggest(ref, sources))
        self.pending_clauses.append((src, ref, what))
        return SourceClause(ref=ref, clause=self.text(src, "clause", f"{what} source"))

    def decision(self, data: YMap, parameters: dict, facts: dict, computed: dict) -> DecisionPolicy:
        dec = self.mapping(data, "decision", data.start, "rules file", required=False)
        if dec is None:
            return DecisionPolicy()
        self.known_keys(dec, ("threshold", "quota", "tie_breaks", "rank_by", "threshold_basis"), "decision")
        threshold, threshold_param = (0, "")
        if "threshold" in dec:
            threshold, threshold_param = self.number_or_param(dec, "threshold", parameters, "decision")
        quota, quota_param = (None, "")
        if dec.get("quota") is not None:
            quota, quota_param = self.number_or_param(dec, "quota", parameters, "decision")
            if quota is not None and (quota != int(quota) or quota < 0):
                self.error(dec.pos("quota"), f"decision: quota must be a whole number >= 0, got {quota}")
                quota = None
        ties = self.seq(dec, "tie_breaks", "decision") or ([] if "rank_by" in dec else ["criteria_order", "name"])
        for i, t in enumerate(ties):
            if t not in TIE_BREAKS:
                self.error(ties.pos(i) if isinstance(ties, YList) else dec.start,
                           f"decision: unknown tie-break {t!r}" + suggest(str(t), TIE_BREAKS)
                           + f"; choose from {', '.join(TIE_BREAKS)}")
        threshold_basis = self.basis(dec, "threshold_basis", "decision",
                                     warn_missing=bool(threshold) and not threshold_param)
        return DecisionPolicy(threshold=threshold or 0, threshold_param=threshold_param,
                              quota=int(quota) if quota is not None else None, quota_param=quota_param,
                              tie_breaks=tuple(str(t) for t in ties), threshold_basis=threshold_basis,
                              rank_by=read_rank_by(self, dec, facts, computed))

    def basis(self, item: YMap, key: str, what: str, warn_missing: bool = False) -> Basis | None:
        """`key: official` or `key: {kind: official, note: ...}`; a missing basis is a warning where asked."""
        raw = item.get(key)
        if raw is None:
            if warn_missing:
                self.warn(item.start, f"{what}: no '{key}': say whether it is {', '.join(BASES[:-1])} "
                                      f"or {BASES[-1]}")
            return None
        note, pos = "", item.pos(key)
        if isinstance(raw, YMap):
            self.known_keys(raw, ("kind", "note"), f"{what} {key}")
            note = self.text(raw, "note", f"{what} {key}", required=False)
            pos = raw.pos("kind") if "kind" in raw else raw.start
            raw = raw.get("kind")
        if not isinstance(raw, str) or raw not in BASES:
            self.error(pos, f"{what}: unknown {key} {raw!r}" + suggest(str(raw), BASES) + f"; choose from "
                            f"{', '.join(BASES)}")
            return None
        return Basis(raw, note)

    def clause_dates(self, sources: dict, effective: str) -> None:
        """Warn about a source clause dated after the rule version it justifies took effect: it
        cannot be what the rule was based on (`reports` gives the date of the event a later
        article reports)."""
        if not effective:
            return
        for src, ref, what in self.pending_clauses:
            doc = sources.get(ref)
            when = doc and (doc.reports or doc.date)
            if when and when > effective:
                self.warn(src.pos("ref"), f"{what}: source '{ref}' dates from {when}, after this rule version "
                                          f"took effect ({effective}); cite what the rule was based on then")

    # -- whole-file checks --------------------------------------------------------------------
    def check_cycles(self, concepts: dict[str, Concept], items: YList) -> None:
        deps = {cid: {n.concept for n in c.condition.walk() if isinstance(n, Ref)} for cid, c in concepts.items()}
        state: dict[str, int] = {}

        def visit(cid: str, chain: list[str]) -> None:
            if state.get(cid) == 2:
                return
            if state.get(cid) == 1:
                loop = chain[chain.index(cid):] + [cid]
                line = concepts[cid].line
                self.problems.add(line, 1, f"concept '{cid}': circular definition {' -> '.join(loop)}")
                return
            state[cid] = 1
            for dep in deps.get(cid, ()):
                visit(dep, chain + [cid])
            state[cid] = 2

        for cid in concepts:
            visit(cid, [])

    def constant_conditions(self, facts: dict, concepts: dict, criteria: list) -> None:
        for finding in constant_conditions(facts, concepts, criteria):
            self.problems.add(finding.node.line, finding.node.col, finding.message)

    def unused_names(self, parameters: dict, concepts: dict, criteria: list, decision: DecisionPolicy,
                     data: YMap, concept_items: YList) -> None:
        """Warn about parameters and concepts that nothing reads."""
        nodes = [n for c in [*concepts.values(), *criteria] for n in c.condition.walk()]
        used = {p for n in nodes if isinstance(n, LEAVES) for p in leaf_params(n)} | {c.points_param for c in criteria}
        used |= {p for c in criteria if c.points_expr is not None for p in params_of(c.points_expr)}
        used |= {decision.threshold_param, decision.quota_param}
        for name in parameters:
            if name not in used:
                self.warn(data["parameters"].kpos(name), f"parameter '{name}' is defined but nothing uses it")
        refs = {n.concept for n in nodes if isinstance(n, Ref)}
        for item in concept_items:
            cid = item.get("id") if isinstance(item, YMap) else None
            if isinstance(cid, str) and cid in concepts and cid not in refs:
                self.warn(item.pos("id"), f"concept '{cid}' is defined but no condition uses it")

    def unused_facts(self, facts: dict, concepts: dict, criteria: list, data: YMap, ranking: set[str]) -> None:
        used = set(ranking)
        for node in [c.condition for c in concepts.values()] + [c.condition for c in criteria]:
            used |= {f for n in node.walk() if isinstance(n, LEAVES) for f in leaf_facts(n)}
        used |= {f for c in criteria if c.points_expr is not None for f in facts_of(c.points_expr)}
        for name in facts:
            if name not in used:
                self.warn(data["facts"].kpos(name), f"fact '{name}' is declared but no condition reads it")


def _type_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dt.date):
        return "date"
    return "string"


def _fits(value: Any, ptype: str) -> bool:
    if ptype in ("int", "float") and isinstance(value, float) and not math.isfinite(value):
        return False                     # nan or infinity would make every comparison meaningless
    if ptype == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if ptype == "list":               # strings, or numbers, and not too many
        return isinstance(value, tuple) and 0 < len(value) <= MAX_PARAM_LIST and (
            all(isinstance(v, str) for v in value) or all(_fits(v, "float") for v in value))
    return _type_of(value) == ptype


def _number_or_text(text: str) -> Any:
    for kind in (int, float):
        try:
            value = kind(text)
            return value if math.isfinite(value) else text
        except ValueError:
            pass
    return text


def _coerce(raw: Any, ptype: str) -> Any:
    """A --param value given as text, converted to the parameter's type (None if it does not fit)."""
    if not isinstance(raw, str):
        raw = tuple(raw) if isinstance(raw, list) else raw
        return raw if _fits(raw, ptype) else None
    try:
        if ptype == "int":
            return int(raw)
        if ptype == "float":
            value = float(raw)
            return value if math.isfinite(value) else None
        if ptype == "bool":
            return {"true": True, "false": False}[raw.lower()]
        if ptype == "date":
            return dt.date.fromisoformat(raw)
        if ptype == "list":              # "FR;DE" or "FR,DE"; numbers stay numbers
            items = tuple(_number_or_text(s.strip()) for s in re.split(r"[;,]", raw) if s.strip())
            return items if _fits(items, "list") else None
        return raw
    except (ValueError, KeyError):
        return None


def _noun(kind: str) -> str:
    """How a message names a criterion of this kind: "gate", "published criterion"."""
    return "gate" if kind == "gate" else f"{kind} criterion"
