"""Request and response types: the OpenAPI document is generated from these. `EvaluationRecord`
mirrors the record `eligibility check --format json` writes (records.record.evaluation_record);
tests hold the two to the same fields, so the HTTP and CLI outputs cannot drift."""
from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Number = Union[int, float]
Verdict = Literal["selected", "excluded", "undetermined"]
Outcome = Literal["met", "not_met", "unknown"]
Engine = Literal["durable", "python", "both"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicantInfo(_Closed):
    id: str
    name: str
    lead: str
    consortium: list[str]
    path: str = Field(description="the profile file, or `request` for a profile sent in the request")
    sha256: str = Field(description="sha256 of the profile text (for a profile sent as JSON: of its canonical JSON)")


class ProgramInfo(_Closed):
    id: str
    title: str
    path: str
    sha256: str
    version: Optional[str]
    effective: Optional[str]
    rules_path: str
    rules_sha256: str


class Versions(_Closed):
    eligibility: str
    engine: str
    python: str


Basis = Literal["official", "reported", "inferred", "calibration"]


class BasisNote(_Closed):
    kind: Basis
    note: Optional[str] = None


class CriterionResult(_Closed):
    id: str
    title: str
    kind: Literal["gate", "scored", "published"]
    outcome: Outcome
    description: Optional[str]
    points: Optional[Number]
    awarded: Optional[Number]
    missing: list[str]
    basis: Optional[BasisNote] = Field(description="what the rule rests on: official text, a press report, "
                                                   "an inference, or this project's calibration")
    points_basis: Optional[BasisNote]


class ParameterOverride(_Closed):
    value: Any
    rules_value: Any


class RankKeyValue(_Closed):
    value: Any = Field(description="a number or ISO date; null when unknown or without a value (none)")
    missing: list[str] = Field(description="the unknown facts behind a value that is not known")


class EvaluationRecord(_Closed):
    """One evaluation (schema `eligibility.evaluation/1`), as `check --format json` writes it, without `command`."""

    schema_: Literal["eligibility.evaluation/1"] = Field(alias="schema")
    applicant: ApplicantInfo
    program: ProgramInfo
    engine: Engine
    versions: Versions
    as_of: Optional[str]
    evaluation_date: Optional[str] = Field(None, description="the date `today` stood for (the as-of date, else the "
                                                             "day of the run); only when the rules read `today`")
    verdict: Verdict
    reason: str
    basis: Basis = Field(description="the weakest basis among the rules the verdict rests on")
    unofficial: bool = Field(description="the verdict rests on a non-official rule, or on facts known only "
                                         "from press or analysis")
    basis_detail: dict[str, Any]
    score: Number
    score_max: Optional[Number] = Field(description="the highest score the unknowns allow; null: no upper bound "
                                                    "(points read an unknown input without a declared range)")
    threshold: Number
    missing: list[str]
    gates_failed: list[str]
    criteria: list[CriterionResult]
    parameters: dict[str, Any]
    overrides: dict[str, Any]
    parameter_overrides: dict[str, ParameterOverride]
    rank_keys: Optional[dict[str, RankKeyValue]] = Field(
        None, description="the applicant's value of each fact or computed value the ranking reads (decision.rank_by); "
                          "present only when the rules rank by one")
    trace: Optional[dict[str, Any]] = Field(None, description="the explanation trace (when asked for)")


class Scenario(_Closed):
    """Who to evaluate and under which rules: a loaded applicant (`applicant`) or a profile sent
    as JSON (`profile`, the YAML profile's structure; evidence optional), and one run's changes."""

    applicant: Optional[str] = Field(None, description="id of a profile the service loaded (GET /v1/applicants)")
    profile: Optional[dict[str, Any]] = Field(None, description="an applicant profile as JSON")
    as_of: Optional[str] = Field(None, description="evaluate with the rules and facts known on this date (YYYY-MM-DD)")
    parameters: dict[str, Any] = Field(default_factory=dict, description="parameter overrides, name: value")
    facts: dict[str, Any] = Field(default_factory=dict, description="fact overrides (what-if), name: value or \"unknown\"")


class EvaluateRequest(Scenario):
    trace: bool = Field(True, description="include the explanation trace")
    engine: Engine = "durable"


class FlipsRequest(Scenario):
    max_changes: int = Field(3, ge=1, le=3, description="most facts changed at once")


class ImpactRequest(_Closed):
    parameters: dict[str, Any] = Field(default_factory=dict, description="parameter edits, name: value")
    as_of: Optional[str] = None


class ReplayRequest(_Closed):
    record: dict[str, Any] = Field(description="an evaluation record about a profile this service loaded")


class ReplayResult(_Closed):
    applicant: str
    verdict: str
    identical: bool
    differences: list[dict[str, Any]]
    error: Optional[str]


class FlipReport(BaseModel):
    """`check --flip`'s report: the minimal fact changes that flip the verdict, confirmed on the durable engine."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", description="the verdict now")
    targets: list[str]
    facts_varied: list[str]
    found: list[dict[str, Any]] = Field(description="minimal change sets, smallest first, each with `set` arguments")
    questions: list[dict[str, Any]]
    search: dict[str, Any]


class ImpactReport(BaseModel):
    """`eligibility diff`'s report (schema eligibility.rulediff/1) over the loaded applicants,
    with the rules-file patch that makes the parameter edits."""

    model_config = ConfigDict(extra="allow")
    schema_: Literal["eligibility.rulediff/1"] = Field(alias="schema")
    summary: dict[str, Any]
    applicants: list[dict[str, Any]]
    patch: str = Field(description="unified diff of the rules file (empty when nothing changed)")
    patch_path: str = Field(description="the rules file the patch applies to, relative to the service's directory")


class ApplicantSummary(_Closed):
    id: str
    name: str
    path: str
    facts: dict[str, Any]


class Problem(_Closed):
    pointer: str = Field(description="JSON pointer (RFC 6901) to the bad part of the request")
    detail: str


class ProblemDetails(BaseModel):
    """An error (RFC 9457, media type application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[Problem] = Field(default_factory=list)


class Health(_Closed):
    status: Literal["ok"]


class Ready(_Closed):
    status: Literal["ready", "starting"]
    program: str
    applicants: int = Field(description="profiles loaded")
    profile_errors: list[str] = Field(description="profiles that could not be loaded, one line each")
