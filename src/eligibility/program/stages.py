"""A programme in stages: who is in on a date, who left at which stage and why.

    from eligibility import api
    from eligibility.program import stages
    program = api.load_rules("rules/sovereign-ai-2025.yaml", as_of="2026-02-20")
    state = stages.run_stages(program, ["applicants/"], as_of="2026-02-20")
    [(j.name, j.status, j.left_at) for j in state.journeys]

Each stage (`program.stages`; a rules file without stages is one stage) is decided by its own
rules file on its own date, with each fact as on record on that date, over its population: the
applicants who advanced from the stage before plus those who enter at it (its `entrants` fact is
true on its date). A stage that `judges: entrants` (an added call) judges only its entrants and
lets those who advanced continue. The stage's decision is the batch one (threshold, quota,
tie-breaks): selected applicants advance, the others leave at that stage with their reason.
Every input gets a journey: a profile that cannot be read is an error, never dropped.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

from eligibility.core.errors import InputError
from eligibility.core.paths import yaml_files
from eligibility.evaluate.evaluator import Evaluator
from eligibility.language.model import Applicant, Program, ProgramStage
from eligibility.language.profile import load_applicant
from eligibility.language.rules import load_program
from eligibility.language.versions import load_rules
from eligibility.evaluate.rankvalues import rank_values
from eligibility.program import decision as dec

IN, OUT, ERROR, NOT_ENTERED = "in", "out", "error", "not entered"


@dataclass(frozen=True)
class Step:
    """One stage of an applicant's journey: the stage's final verdict (after the quota) and why."""

    stage: str
    title: str
    date: str
    verdict: str                  # selected, excluded, ..., or "continued" (not judged: an added call)
    reason: str
    score: Optional[float] = None     # None: the stage has no score
    rank: Optional[int] = None
    evidence: tuple[str, ...] = ()    # the evidence behind the facts a failed gate's reason names


@dataclass
class Journey:
    """An applicant's path through the stages up to the date."""

    id: str
    name: str
    path: str
    entered_at: str = ""
    steps: list[Step] = field(default_factory=list)
    status: str = NOT_ENTERED
    error: str = ""

    @property
    def left_at(self) -> Optional[Step]:
        """The step at which the applicant left the programme, if it did."""
        return self.steps[-1] if self.status == OUT else None


@dataclass
class StagedResult:
    program: Program
    as_of: Optional[str]
    stages: list[ProgramStage]
    journeys: list[Journey]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)   # per stage: entered, judged, advanced


def stages_of(program: Program) -> list[ProgramStage]:
    """The programme's stages; a file without stages is one stage, decided on its effective date."""
    if program.stages:
        return list(program.stages)
    return [ProgramStage(program.version or program.id, program.title, program.effective, program.path)]


def profile_paths(inputs: Sequence[str], stages: Sequence[ProgramStage] = ()) -> list[str]:
    """The YAML profiles named: files, the YAML files directly in directories, and those in a
    directory's subdirectory named after a stage (the applicants who enter at that stage: kept
    apart so that commands on an earlier single-stage version do not read them)."""
    out: list[str] = []
    for path in inputs:
        if not os.path.isdir(path):
            out.append(path)
            continue
        out += yaml_files(path)
        for stage in stages:
            sub = os.path.join(path, stage.id)
            out += yaml_files(sub) if os.path.isdir(sub) else []
    return out


def run_stages(program: Program, inputs: Sequence[str], as_of: Optional[str] = None,
               engine: str = "durable") -> StagedResult:
    """Run every stage decided on or before `as_of` (all without it) over the profiles in `inputs`."""
    every = stages_of(program)          # entry stages are known from every stage, even a later one
    stages = [s for s in every if as_of is None or not s.date or s.date <= as_of]
    programs = [_stage_program(program, s) for s in stages]
    journeys: dict[str, Journey] = {}
    applicants: dict[str, str] = {}          # journey key -> profile path
    for path in profile_paths(inputs, every):
        journey = _journey(path, program, every, journeys)
        journeys[journey.id or path] = journey
        if not journey.error:
            applicants[journey.id] = path
    result = StagedResult(program, as_of, stages, list(journeys.values()))
    advanced: set[str] = set()
    for stage, prog in zip(stages, programs):
        entrants = {k for k, j in journeys.items() if j.entered_at == stage.id and not j.error}
        judged = entrants | (set() if stage.judges_entrants_only else advanced)
        continuing = advanced - judged
        selected = _decide(stage, prog, [applicants[k] for k in sorted(judged)], journeys, engine)
        for key in continuing:
            journeys[key].steps.append(Step(stage.id, stage.title, stage.date, "continued",
                                            "continued: not judged at this stage (it judges its entrants only)"))
        for key in judged:
            journeys[key].status = IN if key in selected else OUT
        advanced = continuing | selected
        result.counts[stage.id] = {"entered": len(entrants), "judged": len(judged), "advanced": len(advanced)}
    return result


def _stage_program(program: Program, stage: ProgramStage) -> Program:
    """The stage's rules: its own file, else the program's version in force on its date."""
    if stage.path == program.path or (not stage.path and not program.main_path):
        return program
    loaded = load_program(stage.path) if stage.path else load_rules(program.main_path, as_of=stage.date)
    if loaded.path == program.path:
        return program
    loaded.family_facts = program.family_facts    # profiles hold the facts of every stage
    return loaded


def _journey(path: str, program: Program, stages: list[ProgramStage], seen: dict[str, Journey]) -> Journey:
    """The applicant's journey before any stage: the stage it enters at, or the error reading it."""
    try:
        applicant = load_applicant(path, program)
    except InputError as exc:
        return Journey("", path, path, status=ERROR, error=str(exc.problems[0]) if exc.problems else str(exc))
    if applicant.id in seen:
        return Journey("", path, path, status=ERROR, error=f"{path}: duplicate applicant id '{applicant.id}'")
    return Journey(applicant.id, applicant.name, path, entered_at=_entry_stage(applicant, stages))


def _entry_stage(applicant: Applicant, stages: list[ProgramStage]) -> str:
    """The first later stage whose entrants fact is true for the applicant on its date, else the first."""
    for stage in stages[1:]:
        fv = applicant.fact(stage.entrants, stage.date) if stage.entrants else None
        if fv is not None and fv.value is True:
            return stage.id
    return stages[0].id if stages else ""


def _decide(stage: ProgramStage, program: Program, paths: list[str], journeys: dict[str, Journey],
            engine: str) -> set[str]:
    """Evaluate the judged applicants with the stage's rules on its date and apply its decision;
    the ids of those selected."""
    evaluator = Evaluator(program, engine)
    entries: list[dec.Entry] = []
    evidence: dict[str, tuple[str, ...]] = {}
    try:
        for key, path in enumerate(paths):
            ev = evaluator.evaluate(load_applicant(path, program), stage.date or None)
            s = ev.assessment
            entries.append(dec.Entry(key, ev.applicant.id, ev.applicant.name, s.verdict, s.score, s.awarded,
                                     s.gates_met, ev.reason, s.gates_failed, values=rank_values(ev),
                                     **dec.prospects(s)))
            evidence[ev.applicant.id] = _evidence(ev.applicant, s.reason_facts, stage.date)
    finally:
        evaluator.close()
    decision = dec.decide(program, [replace(e) for e in entries])
    scored = any(c.kind == "scored" for c in program.criteria)
    for e in decision.entries:
        journeys[e.id].steps.append(Step(stage.id, stage.title, stage.date, e.final, e.reason,
                                         e.score if scored else None, e.rank, evidence.get(e.id, ())))
    return {e.id for e in decision.entries if e.final == dec.SELECTED}


def _evidence(applicant: Applicant, facts: Sequence[str], date: str) -> tuple[str, ...]:
    """Each deciding fact's evidence published by the stage's date, as `fact: publisher, date (kind): note`."""
    out = []
    for name in facts:
        fv = applicant.fact(name, date or None)
        for e in fv.evidence if fv is not None else ():
            if not (date and e.source.date and e.source.date > date):
                out.append(f"{name}: {e.source.publisher or e.source.title}, {e.source.date or 'undated'} "
                           f"({e.kind}): {e.note}")
    return tuple(out)
