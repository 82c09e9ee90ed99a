"""A programme in stages as text and JSON: who is in on the date, who left at which stage and why,
and one applicant's path through the stages (`eligibility history`)."""
from __future__ import annotations

from typing import Any

from eligibility.core.formatting import number
from eligibility.core.text import safe
from eligibility.program.stages import ERROR, IN, NOT_ENTERED, OUT, Journey, StagedResult, Step, step_dict

_STATUS_ORDER = {IN: 0, OUT: 1, NOT_ENTERED: 2, ERROR: 3}


def render_state(result: StagedResult) -> str:
    """The programme's state on the date: each stage's counts, then who is in and who left where."""
    p = result.program
    when = f", as of {result.as_of}" if result.as_of else ""
    lines = [f"{p.title} [{p.version or p.id}]{when}", ""]
    for i, stage in enumerate(result.stages, start=1):
        c = result.counts.get(stage.id, {})
        lines.append(f"stage {i} {stage.id} ({stage.date}): {c.get('entered', 0)} entered, "
                     f"{c.get('judged', 0)} judged, {c.get('advanced', 0)} in after it")
    journeys = sorted(result.journeys, key=lambda j: (_STATUS_ORDER[j.status], j.name.casefold(), j.id))
    for status, heading in ((IN, "in the programme"), (OUT, "out"), (NOT_ENTERED, "not entered"), (ERROR, "errors")):
        group = [j for j in journeys if j.status == status]
        if group:
            lines += ["", f"{heading} ({len(group)}):"]
            lines += [line for j in group for line in _summary(j)]
    return "\n".join(safe(line) for line in lines) + "\n"


def _summary(j: Journey) -> list[str]:
    if j.status == ERROR:
        return [f"  {j.path}: {j.error}"]
    head = f"  {j.name} ({j.id})"
    if j.status == IN:
        return [head + ": " + ", ".join(f"{_word(s)} {s.date}" for s in j.steps)]
    if j.status == OUT:
        s = j.steps[-1]
        return [head + f": out at {s.stage} ({s.date}), {s.verdict}", f"    {s.reason}"]
    return [head + f": enters at {j.entered_at or 'a later stage'}"]


def _word(step: Step) -> str:
    return {"selected": f"advanced at {step.stage}", "continued": f"continued through {step.stage}"}.get(
        step.verdict, f"{step.verdict} at {step.stage}")


def render_history(journey: Journey) -> str:
    """One applicant's path: each stage's date, verdict, score (when the stage has one) and reason."""
    lines = [f"{journey.name} ({journey.id}): {journey.status}"]
    if journey.error:
        lines.append(f"  {journey.error}")
    if journey.entered_at:
        lines.append(f"  entered at {journey.entered_at}")
    for s in journey.steps:
        score = f", score {number(s.score)}" if s.score is not None else ""
        rank = f", rank {s.rank}" if s.rank is not None else ""
        lines += [f"  {s.date}  {s.title} ({s.stage}): {s.verdict}{score}{rank}", f"    {s.reason}"]
        lines += [f"    evidence: {e}" for e in s.evidence]
    return "\n".join(safe(line) for line in lines) + "\n"


def journey_dict(j: Journey) -> dict[str, Any]:
    return {"id": j.id, "name": j.name, "path": j.path, "status": j.status, "entered_at": j.entered_at or None,
            "error": j.error or None,
            "steps": [step_dict(s) for s in j.steps]}


def state_dict(result: StagedResult) -> dict[str, Any]:
    """The programme's state on the date as JSON-ready data (schema eligibility.stages/1)."""
    return {"schema": "eligibility.stages/1", "program": result.program.id, "version": result.program.version,
            "as_of": result.as_of,
            "stages": [{"id": s.id, "title": s.title, "date": s.date, **result.counts.get(s.id, {})}
                       for s in result.stages],
            "journeys": [journey_dict(j) for j in result.journeys]}


def standing_lines(rec: dict) -> list[str]:
    """What a check record of a programme in stages adds (its `stage` section): the applicant's
    standing on the date asked, and its journey; nothing for a single-stage programme."""
    st = rec.get("stage")
    if not st:
        return []
    when = f" on {st['as_of']}" if st.get("as_of") else ""
    where = (f"out at stage {st['stage']} ({st['date']})" if st["status"] == OUT
             else f"in the programme, last judged at stage {st['stage']} ({st['date']})")
    return [f"standing{when}: {where}, {st['final_verdict']}", f"journey: {st['journey']}",
            f"judged by the rules of stage {st['stage']}, with the facts on record on {st['date']}"]


def has_score(rec: dict) -> bool:
    """Whether the check record's score means something: a single-stage programme always shows its
    score line (as it always has); a stage without scored criteria has none."""
    return "stage" not in rec or any(c["kind"] == "scored" for c in rec["criteria"])
