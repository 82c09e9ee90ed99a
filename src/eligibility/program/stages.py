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

`standing_of` is one applicant's standing on a date (what `check` shows for a programme in
stages): its journey, computed with the other applicants of its directory, and its evaluation at
the stage that judged it last, by that stage's rules on that stage's date.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

from eligibility.core.errors import InputError, Problem
from eligibility.core.paths import yaml_files
from eligibility.evaluate.assess import Evaluation
from eligibility.evaluate.evaluator import Evaluator
from eligibility.language.model import ALL_EVIDENCE, Applicant, Program, ProgramStage
from eligibility.language.profile import load_applicant
from eligibility.language.versions import load_file_on, load_rules
from eligibility.evaluate.rankvalues import rank_values
from eligibility.program import decision as dec

IN, OUT, ERROR, NOT_ENTERED = "in", "out", "error", "not entered"
CONTINUED = "continued"          # the verdict of a step not judged (an added call lets the others continue)


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
    evaluation: Optional[Evaluation] = field(default=None, compare=False, repr=False)   # None: not judged


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
    programs = [stage_program(program, s) for s in stages]
    journeys: dict[str, Journey] = {}
    applicants: dict[str, str] = {}          # journey key -> profile path
    known_by = as_of or ALL_EVIDENCE       # each stage is looked at with what is known at the question's date
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
        selected = _decide(stage, prog, [applicants[k] for k in sorted(judged)], journeys, engine, known_by)
        for key in continuing:
            journeys[key].steps.append(Step(stage.id, stage.title, stage.date, CONTINUED,
                                            "continued: not judged at this stage (it judges its entrants only)"))
        for key in judged:
            journeys[key].status = IN if key in selected else OUT
        advanced = continuing | selected
        result.counts[stage.id] = {"entered": len(entrants), "judged": len(judged), "advanced": len(advanced)}
    return result


def stage_program(program: Program, stage: ProgramStage) -> Program:
    """The stage's rules: its own file, else the program's version in force on its date; each
    dated parameter at its value in force on the stage's date."""
    dated = any(p.values for p in program.parameters.values())
    if not dated and (stage.path == program.path or (not stage.path and not program.main_path)):
        return program
    if stage.path or not program.main_path:
        loaded = load_file_on(stage.path or program.path, stage.date)
    else:
        loaded = load_rules(program.main_path, as_of=stage.date)
    if loaded.path == program.path and not dated:
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
            engine: str, known_by: str) -> set[str]:
    """Evaluate the judged applicants with the stage's rules on its date, with the evidence
    published by `known_by`, and apply its decision; the ids of those selected."""
    evaluator = Evaluator(program, engine)
    entries: list[dec.Entry] = []
    evaluations: dict[str, Evaluation] = {}
    try:
        for key, path in enumerate(paths):
            ev = evaluator.evaluate(replace(load_applicant(path, program), known_by=known_by), stage.date or None)
            s = ev.assessment
            entries.append(dec.Entry(key, ev.applicant.id, ev.applicant.name, s.verdict, s.score, s.awarded,
                                     s.gates_met, ev.reason, s.gates_failed, values=rank_values(ev),
                                     **dec.prospects(s)))
            evaluations[ev.applicant.id] = ev
    finally:
        evaluator.close()
    decision = dec.decide(program, [replace(e) for e in entries])
    scored = any(c.kind == "scored" for c in program.criteria)
    for e in decision.entries:
        ev = evaluations[e.id]
        journeys[e.id].steps.append(Step(stage.id, stage.title, stage.date, e.final, e.reason,
                                         e.score if scored else None, e.rank,
                                         _evidence(ev.applicant, ev.assessment.reason_facts, stage.date), ev))
    return {e.id for e in decision.entries if e.final == dec.SELECTED}


def _evidence(applicant: Applicant, facts: Sequence[str], date: str) -> tuple[str, ...]:
    """Each deciding fact's evidence known at the question's date, as `fact: publisher, date (kind): note`."""
    out = []
    for name in facts:
        fv = applicant.fact(name, date or None)
        for e in fv.evidence if fv is not None else ():
            if not e.published_after(applicant.cutoff(date or None)):
                out.append(f"{name}: {e.source.publisher or e.source.title}, {e.source.date or 'undated'} "
                           f"({e.kind}): {e.note}")
    return tuple(out)


def refuse_overrides(program: Program, where: str, given: Sequence[tuple[str, object]]) -> None:
    """InputError when a command asks a programme in stages for what it cannot honour: each stage is
    decided by its own rules over the files of its whole population, so overrides of parameters or
    facts, and a profile from stdin, would be silently ignored (`given`: (what, value) pairs)."""
    refused = [what for what, value in given if value]
    if refused:
        raise InputError(Problem(where, 0, 0, f"not available for a programme in stages (program '{program.id}', "
                                              f"version {program.version or program.path}): {' and '.join(refused)}"))


def journey_of(program: Program, profile: str, applicants: Optional[str] = None, as_of: Optional[str] = None,
               engine: str = "durable") -> Journey:
    """One applicant's journey, decided with the other applicants of `applicants` (default: the
    profile's directory, or the one above it for a profile kept under its entry stage's name)."""
    folder = applicants or os.path.dirname(profile) or "."
    if os.path.basename(os.path.normpath(folder)) in {s.id for s in program.stages}:
        folder = os.path.dirname(os.path.normpath(folder)) or "."
    wanted = os.path.realpath(profile)
    for inputs in ([folder], [folder, profile]):     # a profile outside the folder is added to it
        journey = next((j for j in run_stages(program, inputs, as_of, engine).journeys
                        if os.path.realpath(j.path) == wanted), None)
        if journey is not None:
            break
    if journey is None:
        raise InputError(Problem(profile, 0, 0, "profile not found among the applicants"))
    if journey.error:
        load_applicant(profile, program)       # a reading error: raised with its own line and column
        raise InputError(Problem(profile, 0, 0, journey.error.removeprefix(f"{journey.path}: ")))
    return journey


@dataclass(frozen=True)
class Standing:
    """An applicant's standing on a date in a programme in stages: its journey, the step that
    judged it last, and its evaluation there (that stage's rules, facts as on record on its date)."""

    as_of: Optional[str]
    program: Program              # the version that lists the stages
    journey: Journey
    step: Step
    evaluation: Evaluation
    applicants: Optional[str] = None     # the directory of the others, when named


def standing_of(program: Program, profile: str, applicants: Optional[str] = None, as_of: Optional[str] = None,
                engine: str = "durable") -> Standing:
    """The applicant's standing on `as_of`; InputError for an unreadable profile or an applicant
    that has not entered the programme by then."""
    journey = journey_of(program, profile, applicants, as_of, engine)
    judged = [s for s in journey.steps if s.verdict != CONTINUED]
    if not judged:
        when = f" by {as_of}" if as_of else ""
        raise InputError(Problem(profile, 0, 0, f"'{journey.id}' has not entered the programme{when}: "
                                                f"it enters at stage '{journey.entered_at}'"))
    step = judged[-1]
    assert step.evaluation is not None
    return Standing(as_of, program, journey, step, step.evaluation, applicants)


def standing_dict(standing: Standing) -> dict:
    """The `stage` section of a check record: the date asked, the staged version, the stage that
    judged the applicant last with its final verdict (after the quota), and the whole journey."""
    p, j, s = standing.program, standing.journey, standing.step
    return {"as_of": standing.as_of, "rules_path": p.main_path or p.path, "version": p.version or None,
            "applicants": standing.applicants,
            "status": j.status, "stage": s.stage, "title": s.title, "date": s.date, "final_verdict": s.verdict,
            "rank": s.rank, "journey": journey_line(j), "steps": [step_dict(x) for x in j.steps]}


def step_dict(s: Step) -> dict:
    return {"stage": s.stage, "title": s.title, "date": s.date, "verdict": s.verdict, "reason": s.reason,
            "score": s.score, "rank": s.rank, "evidence": list(s.evidence)}


def journey_line(j: Journey) -> str:
    """The journey in one line: `selected at selection 2025-08-04, excluded at phase1 2026-01-15`."""
    return ", ".join(f"{s.verdict} at {s.stage} {s.date}" for s in j.steps)
