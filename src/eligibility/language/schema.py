"""JSON Schemas (draft 2020-12) of rules files and applicant profiles, for editors and CI.

They describe the structure only; `eligibility validate` does the semantic checks (names,
types of conditions, evidence). `applicant_schema(program)` narrows the profile schema to
one program's facts and their value types, so that an editor can complete fact names.
"""
from __future__ import annotations

from typing import Any

from eligibility.language.fields import ID_RE, NAME_RE
from eligibility.language.basis import BASES
from eligibility.language.model import CRITERION_KINDS, EVIDENCE_KINDS, FACT_TYPES, Program
from eligibility.language.profile import ABSENT, ENTRY_KEYS, PROFILE_KEYS, UNKNOWN
from eligibility.language.rankby import ORDERS
from eligibility.language.rules import PARAM_TYPES, TIE_BREAKS, TOP_KEYS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
TEXT = {"type": "string"}
NAME = {"type": "string", "pattern": NAME_RE.pattern}
ID = {"type": "string", "pattern": ID_RE.pattern}
SCALAR = {"type": ["string", "number", "boolean"]}


def _object(properties: dict, required: tuple = (), description: str = "") -> dict:
    out: dict[str, Any] = {"type": "object"}
    if description:
        out["description"] = description
    out["properties"] = properties
    if required:
        out["required"] = list(required)
    out["additionalProperties"] = False
    return out


PARAM_LIST = {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}, "minItems": 1}


def rules_schema() -> dict:
    """The schema of a rules file (`rules/*.yaml`)."""
    number_or_param = {"anyOf": [{"type": "number", "minimum": 0}, NAME]}
    basis = {"anyOf": [{"enum": list(BASES)}, _object({"kind": {"enum": list(BASES)}, "note": TEXT}, ("kind",))],
             "description": "Who stands behind it: official text, a press report, this project's inference, "
                            "or the analyst's calibration; with an optional note."}
    defs = {
        "source": _object({"id": ID, "title": TEXT, "publisher": TEXT, "date": DATE, "reports": DATE, "url": TEXT,
                           "locator": TEXT},
                          ("id", "title"), "A document that rules cite by id."),
        "fact": _object({"type": {"enum": list(FACT_TYPES)}, "description": TEXT, "unit": TEXT,
                         "values": {"type": "array", "items": TEXT, "minItems": 1},
                         "items": {"type": "array", "items": TEXT, "minItems": 1},
                         "range": {"type": "array", "items": {"type": "number"}, "minItems": 2},
                         "optional": {"type": "boolean"}},
                        ("type",), "A fact of the schema; enum facts list their 'values', list facts may list 'items', "
                                   "number facts may give their 'range' [lowest, highest]; an 'optional' fact may be "
                                   "none (known to be absent)."),
        "parameter": {"anyOf": [
            _object({"type": {"enum": list(PARAM_TYPES)}, "value": {"anyOf": [SCALAR, PARAM_LIST]},
                     "description": TEXT, "unit": TEXT, "basis": basis}, ("value",)),
            _object({"type": {"enum": list(PARAM_TYPES)}, "description": TEXT, "unit": TEXT, "basis": basis,
                     "values": {"type": "array", "minItems": 1, "items": _object(
                         {"effective": DATE, "value": {"anyOf": [SCALAR, PARAM_LIST]}, "basis": basis},
                         ("effective", "value"), "A value and the date from which it is in force.")}},
                    ("values",), "A parameter with a history of values, in date order (--as-of picks the one in "
                                 "force)."),
            SCALAR, PARAM_LIST]},
        "computed": {"anyOf": [
            TEXT, {"type": "number"},
            _object({"formula": TEXT, "description": TEXT, "unit": TEXT}, ("formula",))],
            "description": "A named number or date computed from facts, parameters and the computed values "
                           "above it, e.g. \"4*innovation + 3*impact\"."},
        "concept": _object({"id": NAME, "title": TEXT, "description": TEXT, "condition": TEXT},
                           ("id", "condition"), "A named condition that other conditions may use."),
        "criterion": _object({"id": ID, "title": TEXT, "kind": {"enum": list(CRITERION_KINDS)}, "description": TEXT,
                              "points": {"anyOf": [{"type": "number", "minimum": 0}, TEXT],
                                         "description": "A number, a parameter name, or a number expression, "
                                                        "e.g. \"min(weighted_mark, 40)\"."}, "condition": TEXT, "basis": basis, "points_basis": basis,
                              "published_decision": {"type": "boolean", "description":
                                                     "The gate records the authority's published decision; "
                                                     "its reasons were not published."},
                              "source": _object({"ref": ID, "clause": TEXT}, ("ref", "clause"))},
                             ("id", "kind", "condition"),
                             "A gate (must be met), a scored criterion (earns its points when met) or the "
                             "authority's published decision on the applicant (kind published, no points)."),
    }
    props = {
        "program": _object({"id": ID, "title": TEXT, "authority": TEXT, "version": TEXT, "effective": DATE,
                            "versions": {"type": "array", "items": _object({"effective": DATE, "file": TEXT},
                                                                           ("effective", "file"),
                                                                           "A later rules file of the program "
                                                                           "and the date it takes effect.")},
                            "stages": {"type": "array", "items": _object(
                                {"id": ID, "title": TEXT, "date": DATE, "file": TEXT, "entrants": NAME,
                                 "judges": {"enum": ["all", "entrants"]}}, ("id", "date"),
                                "A stage of the programme: its rules file (none: this file), decision date, "
                                "and the bool fact true for the applicants who enter at it.")},
                            "dates": {"type": "object", "additionalProperties": DATE},
                            "budget": {"type": "object"},
                            "sources": {"type": "array", "items": {"$ref": "#/$defs/source"}}},
                           ("id", "title")),
        "facts": {"type": "object", "propertyNames": NAME, "additionalProperties": {"$ref": "#/$defs/fact"}},
        "parameters": {"type": "object", "propertyNames": NAME, "additionalProperties": {"$ref": "#/$defs/parameter"}},
        "computed": {"type": "object", "propertyNames": NAME, "additionalProperties": {"$ref": "#/$defs/computed"}},
        "concepts": {"type": "array", "items": {"$ref": "#/$defs/concept"}},
        "criteria": {"type": "array", "items": {"$ref": "#/$defs/criterion"}, "minItems": 1},
        "decision": _object({"threshold": number_or_param,
                             "quota": {"anyOf": [{"type": "integer", "minimum": 0}, NAME, {"type": "null"}]},
                             "tie_breaks": {"type": "array", "items": {"enum": list(TIE_BREAKS)}},
                             "rank_by": {"type": "array", "items": {"anyOf": [
                                 NAME, _object({"key": NAME, "order": {"enum": list(ORDERS)}}, required=("key",))]}},
                             "threshold_basis": basis}),
    }
    assert set(props) == set(TOP_KEYS)
    return {"$schema": DRAFT, "title": "eligibility rules file",
            **_object(props, ("program", "facts", "criteria"),
                      "A funding program's facts, parameters, concepts, criteria and decision policy."),
            "$defs": defs}


def applicant_schema(program: Program | None = None) -> dict:
    """The schema of an applicant profile; with `program`, its facts are listed with their value types."""
    evidence = _object({"source": _object({"title": TEXT, "publisher": TEXT, "date": DATE, "url": TEXT,
                                           "locator": TEXT}, ("title",)),
                        "kind": {"enum": list(EVIDENCE_KINDS)}, "note": TEXT}, ("source", "kind"))
    defs: dict[str, Any] = {"evidence": evidence}
    facts: dict[str, Any] = {"type": "object", "propertyNames": NAME}
    if program is None:
        defs["entry"] = _entry({})
        facts["additionalProperties"] = _one_or_many("#/$defs/entry")
    else:
        facts["properties"] = {}
        for name, spec in (program.family_facts or program.facts).items():   # every version's facts
            defs[f"fact_{name}"] = _entry(_value_schema(spec), spec.description)
            facts["properties"][name] = _one_or_many(f"#/$defs/fact_{name}")
        facts["additionalProperties"] = False
    props = {"id": ID, "name": TEXT, "lead": TEXT, "consortium": {"type": "array", "items": TEXT},
             "notes": TEXT, "program": ID if program is None else {"const": program.id}, "facts": facts}
    assert set(props) == set(PROFILE_KEYS)
    title = "eligibility applicant profile" + (f" for {program.id}" if program else "")
    return {"$schema": DRAFT, "title": title,
            **_object(props, ("id", "facts"), "An applicant's facts, each with the evidence behind it."),
            "$defs": defs}


def _entry(value: dict, description: str = "") -> dict:
    props = {"value": value, "evidence": {"anyOf": [{"$ref": "#/$defs/evidence"},
                                                    {"type": "array", "items": {"$ref": "#/$defs/evidence"}}]},
             "date": DATE}
    assert set(props) == set(ENTRY_KEYS)
    return _object(props, ("value",), description)


def _one_or_many(ref: str) -> dict:
    return {"anyOf": [{"$ref": ref}, {"type": "array", "items": {"$ref": ref}, "minItems": 1}]}


def _value_schema(spec) -> dict:
    unknown = [{"const": UNKNOWN}] + ([{"const": ABSENT}, {"type": "null"}] if spec.optional else [])
    typed = {"bool": {"type": "boolean"}, "int": {"type": "integer"}, "float": {"type": "number"},
             "string": TEXT, "date": DATE,
             "enum": {"enum": list(spec.values)},
             "list": {"type": "array", "items": {"enum": list(spec.values)} if spec.values else TEXT}}[spec.type]
    if getattr(spec, "range", None) is not None:
        typed = {**typed, "minimum": spec.range[0], "maximum": spec.range[1]}
    return {"anyOf": [typed, *unknown]}
