"""The impact of a rule change: every applicant under the old and the new rules, and why it moved.

For each applicant: old and new final verdict (after ranking and quota), score and rank.
Applicants whose verdict flips come first; each change is attributed to the criteria whose
outcome (or points) changed, with their before/after, and to the rule edits behind them:
parameters whose value changed, conditions and concepts rewritten, points, threshold, quota.
A rules file may be named `git:REV:path` to read it from git history.

The two sides may also be two dates (`--as-of A --vs-as-of B`, same rules file or not): each
side uses the rules version in force on its date and the facts known then, and each change is
attributed to the rule version (criteria added, removed or edited) and to the new evidence
(facts whose value in force changed between the dates, with the evidence behind each value).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from eligibility.program.batch import collect_records
from eligibility.program.inputs import expand_paths
from eligibility.program.decision import Entry
from eligibility.program.ranking import keys_text, rank_keys
from eligibility.core.errors import InputError, Problem
from eligibility.language.expr import Node, Ref
from eligibility.language.model import LEAVES, Program, leaf_params
from eligibility.language.numeric import params_of
from eligibility.records.record import program_info
from eligibility.evaluate.trace import jsonable, fact_dict
from eligibility.language.versions import load_rules
from eligibility.core.formatting import number
from eligibility.language.profile import OVERRIDE_LABEL

SCHEMA = "eligibility.rulediff/1"
FLIPPED, CHANGED, UNCHANGED = "flipped", "changed", "unchanged"


@dataclass(frozen=True)
class FactSettings:
    """Facts set on one side of a diff for every applicant (what-if), and where they were given."""

    values: Mapping[str, Any] = field(default_factory=dict)
    label: str = OVERRIDE_LABEL


NO_SETTINGS = FactSettings()


# -- inputs ----------------------------------------------------------------------------------
def load_rules_ref(spec: str, as_of: str | None = None, params: Mapping[str, Any] | None = None,
                   params_label: str = "parameter override") -> Program:
    """Load a rules file by path, or from git history as `git:REV:path` (path relative to here);
    with `as_of`, the version of it in force on that date (api.load_rules); `params` overrides
    parameters on this side (`params_label` names where they were given, in problems)."""
    return load_rules(spec, params or None, as_of, params_label=params_label)


def profile_paths(items: Iterable[str], *programs: Program) -> list[str]:
    """Profile files named on the command line; a directory stands for its YAML files, and for a
    programme in stages (any of `programs` listing stages) also for those of its subdirectories
    named after a stage (the applicants who enter there)."""
    from eligibility.program.stages import profile_paths as staged_paths
    stages = next((p.stages for p in programs if p.stages), ())
    out = expand_paths(list(items))              # refuses a missing path
    if stages:
        out = staged_paths(list(items), stages)
    if not out:
        raise InputError(Problem(", ".join(items) or ".", 0, 0, "no applicant profiles found"))
    return out


# -- evaluation ---------------------------------------------------------------------------------
def evaluate_profiles(program: Program, paths: list[str], engine: str = "durable",
                      as_of: str | None = None, settings: FactSettings = NO_SETTINGS) -> list[dict]:
    """Every profile evaluated through the batch pipeline, ranked with the program's quota;
    `settings` override facts of every applicant.

    Returns one row per input, in order: {"path", "record" (evaluation record without the trace,
    each criterion with its `because`) or None, "error", "entry" (decision entry), "facts" (the
    trace's facts with their evidence, or None), "program" (the rules that judged it)}."""
    result, records = collect_records(program, paths, engine, as_of, settings=settings.values,
                                      settings_label=settings.label)
    rows = []
    for entry in sorted(result.decision.entries, key=lambda e: e.key):
        rec, facts = records.get(entry.key), None
        if rec is not None:
            rec = dict(rec)
            trace = rec.pop("trace")
            because = {c["id"]: c["because"] for c in trace["criteria"]}
            rec["criteria"] = [dict(c, because=because.get(c["id"], [])) for c in rec["criteria"]]
            facts = trace["facts"]
        error = entry.error["message"] if entry.error else None
        rows.append({"path": entry.path, "record": rec, "error": error, "entry": entry, "facts": facts,
                     "program": program})
    return rows


# -- what changed in the rules -------------------------------------------------------------------
def parameter_changes(old: Program, new: Program) -> dict[str, dict]:
    """Parameters added, removed or whose value differs; `change: "dated value"` when both sides
    hold the same history of dated values and only the value in force moved with the date."""
    out = {}
    for name in list(old.parameters) + [n for n in new.parameters if n not in old.parameters]:
        a, b = old.parameters.get(name), new.parameters.get(name)
        va, vb = (jsonable(a.value) if a else None), (jsonable(b.value) if b else None)
        if a is None or b is None or va != vb:
            dated = a is not None and b is not None and bool(b.values) and a.values == b.values \
                and a.effective != b.effective and not (a.overridden or b.overridden)
            out[name] = {"name": name, "old": va, "new": vb,
                         "change": "added" if a is None else "removed" if b is None else
                         "dated value" if dated else "value"}
            if dated:
                assert a is not None and b is not None
                out[name]["effective"] = {"old": a.effective, "new": b.effective}
                out[name]["basis"] = b.basis.kind if b.basis else None
    return out


def _param_text(p: dict) -> str:
    if p["change"] == "dated value":
        return (f"{p['name']} {_show(p['old'])} -> {_show(p['new'])} (the value in force from "
                f"{p['effective']['new']}" + (f", {p['basis']})" if p.get("basis") else ")"))
    return f"parameter {p['name']} {_show(p['old'])} -> {_show(p['new'])}"


def _params_of(program: Program, node: Node, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    out = set()
    for n in node.walk():
        if isinstance(n, LEAVES):
            out |= leaf_params(n)
        elif isinstance(n, Ref) and n.concept not in seen and n.concept in program.concepts:
            seen.add(n.concept)
            out |= _params_of(program, program.concepts[n.concept].condition, seen)
    return out


def criterion_edits(old: Program, new: Program) -> dict[str, dict]:
    """For each edited criterion id: {"edits": [rule edits, one sentence each], "values": [dated
    parameter values that moved], "parameters": [changed parameters it reads]}."""
    params = parameter_changes(old, new)
    old_c, new_c = {c.id: c for c in old.criteria}, {c.id: c for c in new.criteria}
    changed_concepts = {cid for cid in set(old.concepts) | set(new.concepts)
                        if (old.concepts.get(cid) and old.concepts[cid].condition_text)
                        != (new.concepts.get(cid) and new.concepts[cid].condition_text)}
    out: dict[str, dict] = {}
    for cid in list(old_c) + [c for c in new_c if c not in old_c]:
        a, b = old_c.get(cid), new_c.get(cid)
        if a is None or b is None:
            out[cid] = {"edits": ["criterion added" if a is None else "criterion removed"], "values": [],
                        "parameters": []}
            continue
        edits, values, used = [], [], []
        if a.kind != b.kind:
            edits.append(f"kind {a.kind} -> {b.kind}")
        if a.condition_text != b.condition_text:
            edits.append(f"condition `{a.condition_text}` -> `{b.condition_text}`")
        for concept in sorted((old.concepts_used(a.condition) | new.concepts_used(b.condition)) & changed_concepts):
            edits.append(f"concept {concept} redefined")
        for p in sorted(_params_of(old, a.condition) | _params_of(new, b.condition)
                        | {x for x in (a.points_param, b.points_param) if x}
                        | {x for c in (a, b) if c.points_expr is not None for x in params_of(c.points_expr)}):
            if p in params:
                used.append(p)
                (values if params[p]["change"] == "dated value" else edits).append(_param_text(params[p]))
        if a.points_text != b.points_text:
            edits.append(f"points `{a.points_text or number(a.points)}` -> `{b.points_text or number(b.points)}`")
        elif a.points != b.points and b.points_param not in used:
            edits.append(f"points {number(a.points)} -> {number(b.points)}")
        if edits or values:
            out[cid] = {"edits": edits, "values": values, "parameters": used}
    return out


def decision_edits(old: Program, new: Program) -> list[str]:
    return [text for _, text in _decision_changes(old, new)]


def _decision_changes(old: Program, new: Program) -> list[tuple[str, str]]:
    """Each change of the decision policy with the parameter behind it ("" for none)."""
    a, b = old.decision, new.decision
    out = []
    if a.threshold != b.threshold:
        param = b.threshold_param or a.threshold_param
        out.append((param, f"threshold {number(a.threshold)} -> {number(b.threshold)}"
                           + (f" (parameter {param})" if param else "")))
    if a.quota != b.quota:
        param = b.quota_param or a.quota_param
        out.append((param, f"quota {a.quota} -> {b.quota}" + (f" (parameter {param})" if param else "")))
    if a.tie_breaks != b.tie_breaks:
        out.append(("", f"tie-breaks {', '.join(a.tie_breaks)} -> {', '.join(b.tie_breaks)}"))
    if a.rank_by != b.rank_by and rank_keys(a) != rank_keys(b):
        out.append(("", f"ranked by {keys_text(rank_keys(a))} -> {keys_text(rank_keys(b))}"))
    return out


def stage_edits(old: Program, new: Program) -> list[str]:
    """Changes of the stage policy between two versions: stages added or removed, and a stage's
    date, rules file, entrants fact or whom it judges."""
    a = {s.id: s for s in old.stages}
    b = {s.id: s for s in new.stages}
    out = [f"stage {sid} added" for sid in b if sid not in a] + [f"stage {sid} removed" for sid in a if sid not in b]
    for sid in (x for x in a if x in b):
        for what in ("date", "path", "entrants", "judges_entrants_only"):
            va, vb = getattr(a[sid], what, None), getattr(b[sid], what, None)
            if va != vb:
                out.append(f"stage {sid}: {what.replace('_', ' ')} {_show(va)} -> {_show(vb)}")
    return out


def _show(v: Any) -> str:
    return "(none)" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def evaluate_standings(program: Program, paths: list[str], engine: str = "durable",
                       as_of: str | None = None) -> list[dict]:
    """A programme in stages: each profile's standing on the date (as `check` gives it), as the
    rows of `evaluate_profiles`, each with the program that judged it and its `stage`."""
    from eligibility.program.stages import CONTINUED, run_stages
    from eligibility.records.record import evaluation_record
    rows = []
    for key, j in enumerate(run_stages(program, paths, as_of, engine).journeys):
        judged = [s for s in j.steps if s.verdict != CONTINUED]
        step = judged[-1] if judged else None
        row: dict[str, Any] = {"path": j.path, "record": None, "error": j.error or None, "facts": None,
                               "program": program, "stage": None, "scored": False}
        if step is None or step.evaluation is None:
            verdict = "error" if j.error else "not entered"
            reason = j.error or f"enters at stage {j.entered_at}"
            row["entry"] = Entry(key, j.id, j.name, verdict, why=reason, final=verdict)
            rows.append(row)
            continue
        ev = step.evaluation
        rec = evaluation_record(ev, trace=True)
        trace = rec.pop("trace")
        because = {c["id"]: c["because"] for c in trace["criteria"]}
        rec["criteria"] = [dict(c, because=because.get(c["id"], [])) for c in rec["criteria"]]
        row.update(record=rec, facts=trace["facts"], program=ev.program, scored=step.score is not None,
                   stage={"id": step.stage, "date": step.date},
                   entry=Entry(key, j.id, j.name, step.verdict, score=step.score or 0, why=step.reason,
                               rank=step.rank, final=step.verdict))
        rows.append(row)
    return rows


class _Changes:
    """What changed between the rules that judged each side (one pair of programs per row for a
    programme in stages, where each applicant may be judged at another stage), computed once per pair."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[int, int], dict] = {}

    def of(self, old: Program, new: Program) -> dict:
        key = (id(old), id(new))
        if key not in self.pairs:
            params = parameter_changes(old, new)
            decision = _decision_changes(old, new)
            values = [p for p, _ in decision if p in params and params[p]["change"] == "dated value"]
            self.pairs[key] = {
                "parameters": params, "criteria": criterion_edits(old, new),
                "decision": [text for p, text in decision if p not in values],
                "decision_values": [_param_text(params[p]) for p in values],
                "decision_params": _decision_params(old, new, params)}
        return self.pairs[key]


# -- the comparison -------------------------------------------------------------------------------
def compare(old: Program, new: Program, paths: list[str], engine: str = "durable",
            old_as_of: str | None = None, new_as_of: str | None = None,
            old_set: FactSettings = NO_SETTINGS, new_set: FactSettings = NO_SETTINGS) -> dict:
    """The whole diff report (schema eligibility.rulediff/1) as plain, JSON-ready data.

    With dates, each side is evaluated with the facts known on its date (pass the programs
    api.load_rules chose for those dates), and fact changes between the dates are reported.
    When a side's version lists stages, both sides are the applicants' standings through those
    stages on their dates (`evaluate_standings`). With facts set on either side (`old_set`,
    `new_set`: what-if), each side records the facts set, and changes are attributed to them as well."""
    staged = new if new.stages else old if old.stages else None
    if staged is not None:
        before = evaluate_standings(staged, paths, engine, old_as_of)
        after = evaluate_standings(staged, paths, engine, new_as_of)
    else:
        before = evaluate_profiles(old, paths, engine, old_as_of, old_set)
        after = evaluate_profiles(new, paths, engine, new_as_of, new_set)
    changes = _Changes()
    whole = changes.of(old, new)
    dates = (old_as_of, new_as_of) if old_as_of != new_as_of else None
    what_if = dict(old_set.values) != dict(new_set.values)
    rows = [_applicant(a, b, changes.of(a["program"], b["program"]), dates, what_if)
            for a, b in zip(before, after)]
    order = {FLIPPED: 0, CHANGED: 1, UNCHANGED: 2}
    rows.sort(key=lambda r: (order[r["status"]], r["new"]["rank"] or 10 ** 9, r["old"]["rank"] or 10 ** 9,
                             r["name"].casefold(), r["path"]))
    for r in rows:
        pair = r.pop("_changes")
        if r["status"] != UNCHANGED:
            labelled = bool(dates)
            rules = [("rule version: " if labelled else "") + d for d in pair["decision"]]
            values = [("parameter value: " if labelled else "") + d for d in pair["decision_values"]]
            r["causes"] += _decision_causes(r, values + rules, rows)
            params = pair["parameters"]
            r["parameters"] += [params[p] for p in pair["decision_params"] if params[p] not in r["parameters"]]
            if dates:
                r["attribution"]["parameter_values"] += pair["decision_values"]
                r["attribution"]["stage_rules"] += pair["decision"]
    counts = {side: _counts(rows, side) for side in ("old", "new")}
    return {
        "schema": SCHEMA,
        "old": {**_program_info(old), "as_of": old_as_of, **_set_info(old_set)},
        "new": {**_program_info(new), "as_of": new_as_of, **_set_info(new_set)},
        "rule_changes": {"parameters": list(whole["parameters"].values()),
                         "criteria": [{"id": k, **v} for k, v in whole["criteria"].items()],
                         "decision": decision_edits(old, new),
                         **({"stages": stage_edits(old, new)} if staged is not None else {})},
        "summary": {"applicants": len(rows), "flipped": sum(r["status"] == FLIPPED for r in rows),
                    "changed": sum(r["status"] == CHANGED for r in rows),
                    "unchanged": sum(r["status"] == UNCHANGED for r in rows),
                    "verdicts_old": counts["old"], "verdicts_new": counts["new"]},
        "applicants": rows,
    }


def _program_info(p: Program) -> dict:
    return {**program_info(p), "threshold": p.decision.threshold, "quota": p.decision.quota}


def _set_info(settings: FactSettings) -> dict:
    """The facts set on one side, only when some were (so a plain diff's report is unchanged)."""
    return {"set": dict(settings.values)} if settings.values else {}


def _counts(rows: list[dict], side: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[side]["verdict"]] = out.get(r[side]["verdict"], 0) + 1
    return out


def _side(row: dict) -> dict:
    e: Entry = row["entry"]
    out = {"verdict": e.final, "score": e.score if row["record"] and row.get("scored", True) else None,
           "rank": e.rank, "reason": e.reason, "error": row["error"]}
    if "stage" in row:
        out["stage"] = row["stage"]
    return out


def _applicant(a: dict, b: dict, pair: dict, dates: tuple[str | None, str | None] | None = None,
               what_if: bool = False) -> dict:
    """One applicant's row: both sides, the criteria that moved and why (`pair`: what changed
    between the rules that judged each side; `what_if`: facts were set on a side)."""
    old, new = a["program"], b["program"]
    edits, params = pair["criteria"], pair["parameters"]
    ra, rb = a["record"], b["record"]
    ident = (rb or ra or {}).get("applicant", {})
    old_side, new_side = _side(a), _side(b)
    if old_side["verdict"] != new_side["verdict"]:
        status = FLIPPED
    elif (old_side["score"], old_side["rank"]) != (new_side["score"], new_side["rank"]):
        status = CHANGED
    else:
        status = UNCHANGED
    crit_a = {c["id"]: c for c in (ra or {}).get("criteria", [])}
    crit_b = {c["id"]: c for c in (rb or {}).get("criteria", [])}
    facts = fact_changes(a["facts"], b["facts"], dates) if dates or what_if else {}
    moved = []
    for cid in list(crit_a) + [c for c in crit_b if c not in crit_a]:
        ca, cb = crit_a.get(cid), crit_b.get(cid)
        if ca and cb and (ca["outcome"], ca["awarded"]) == (cb["outcome"], cb["awarded"]):
            continue
        if not ra or not rb:
            continue
        # New evidence explains a criterion the new side still has; a removed criterion is the rule's doing.
        read = _facts_read(new, cid) if cb else set()
        moved.append({"id": cid, "kind": (cb or ca)["kind"],
                      "old": _crit_side(ca, old, cid), "new": _crit_side(cb, new, cid),
                      "edits": edits.get(cid, {}).get("edits", []),
                      "values": edits.get(cid, {}).get("values", []),
                      "evidence": [f for name, f in facts.items() if name in read]})
    used = list(dict.fromkeys(p for m in moved for p in edits.get(m["id"], {}).get("parameters", [])))
    stage = _stage_change(old_side, new_side, dates)
    causes = [f"rule version: {stage}"] if stage else []
    causes += _dated_causes(moved) if dates else \
        [f"{m['id']}: {m['old']['outcome']} -> {m['new']['outcome']}" + _because(m, False) for m in moved]
    return {"path": a["path"], "id": ident.get("id") or a["entry"].id, "name": ident.get("name") or a["entry"].name,
            "status": status, "old": old_side, "new": new_side, "criteria": moved,
            "parameters": [params[p] for p in used], "causes": causes, "_changes": pair,
            **({"fact_changes": list(facts.values())} if dates or what_if else {}),
            **({"attribution": _attribution(moved, stage)} if dates else {})}


def _stage_change(old: dict, new: dict, dates: tuple[str | None, str | None] | None) -> str:
    """For a programme in stages, the stage that decided each side, when it differs."""
    a, b = old.get("stage"), new.get("stage")
    if a == b or "stage" not in new:
        return ""
    def decided(st: dict | None, side: dict) -> str:
        return f"decided at stage {st['id']} ({st['date']})" if st else side["verdict"]
    if dates:
        return f"{decided(b, new)} on {dates[1]} (on {dates[0]}: {decided(a, old)})"
    return f"{decided(b, new)} (before: {decided(a, old)})"


def _attribution(moved: list[dict], stage: str) -> dict[str, list[str]]:
    """The row's changes, sorted by what caused them: dated parameter values, the rules of the
    stage (the rule version), new evidence (the decision policy's changes are added by `compare`)."""
    removed = [m["id"] for m in moved if m["new"]["outcome"] == "absent"]
    rules = ([stage] if stage else []) + ([f"criteria no longer applied: {', '.join(removed)}"] if removed else [])
    rules += [f"{m['id']}: {e}" for m in moved if m["new"]["outcome"] != "absent" for e in m["edits"]]
    return {"parameter_values": [f"{m['id']}: {v}" for m in moved for v in m["values"]],
            "stage_rules": rules,
            "new_evidence": [f"{m['id']}: {_evidence_text(f)}" for m in moved for f in m["evidence"]
                             if f["change"] == "value" and f.get("published_between", True)]}


def _dated_causes(moved: list[dict]) -> list[str]:
    """Causes across two dates: criteria the rule version removed, then each other move with its
    rule edits and the new evidence behind it."""
    removed = [m["id"] for m in moved if m["new"]["outcome"] == "absent"]
    out = [f"rule version: criteria no longer applied: {', '.join(removed)}"] if removed else []
    out += [f"{m['id']}: {m['old']['outcome']} -> {m['new']['outcome']}" + _because(m, True)
            for m in moved if m["new"]["outcome"] != "absent"]
    return out


def _because(moved: dict, dated: bool) -> str:
    parts = []
    if moved["edits"]:
        parts.append(("rule version: " if dated else "") + "; ".join(moved["edits"]))
    if moved.get("values"):
        parts.append(("parameter value: " if dated else "") + "; ".join(moved["values"]))
    for f in moved.get("evidence", []):
        if f["change"] != "value":
            continue
        label = "set" if f.get("set") else "new evidence" if f.get("published_between", True) else \
            "not new evidence" + (f", holds from {f['new']['date']}" if f["new"].get("date") else "")
        parts.append(f"{label}: {_evidence_text(f)}")
    return f" ({'; '.join(parts)})" if parts else ""


def _evidence_text(f: dict) -> str:
    """`fact old -> new (source)` for a fact whose value changed."""
    old_value, new_value = (_show(v) if v is not None else "unknown" for v in (f["old"]["value"], f["new"]["value"]))
    return f"{f['fact']} {old_value} -> {new_value}" + (f" ({f['new']['source']})" if f["new"].get("source") else "")


def _facts_read(program: Program, cid: str) -> set[str]:
    """The facts a criterion's condition reads, through its concepts."""
    try:
        criterion = program.criterion(cid)
    except KeyError:
        return set()
    return program.facts_read(criterion.condition)


def fact_changes(a: dict | None, b: dict | None,
                 dates: tuple[str | None, str | None] | None = None) -> dict[str, dict]:
    """Facts whose value in force, or the evidence behind it, differs between two evaluations of one
    profile (`a`, `b`: the trace facts of each side, as of its date). With the two `dates`, each
    change says whether the new value is `published_between` them: some of its evidence appeared
    between the dates and it was not already on record at the first (holding by then, with
    evidence published by then)."""
    a, b = a or {}, b or {}
    out: dict[str, dict] = {}
    for name in list(a) + [n for n in b if n not in a]:
        then, now = _plain(a.get(name)), _plain(b.get(name))
        if then == now:
            continue
        out[name] = {"fact": name, "change": "value" if then["value"] != now["value"] else "evidence",
                     "old": _fact_side(then), "new": _fact_side(now)}
        if any((side or {}).get("overridden") for side in (a.get(name), b.get(name))):
            out[name]["set"] = True
        if dates:
            low, high = dates
            published = [e["source"]["date"] for e in now["evidence"] if e["source"].get("date")]
            on_record = bool(low) and (now.get("date") or "") <= low and any(d <= low for d in published)
            out[name]["published_between"] = not on_record and any(
                (not low or d > low) and (not high or d <= high) for d in published)
    return out


def _plain(fact: dict | None) -> dict:
    fact = dict(fact or fact_dict(None))
    fact.pop("overridden", None)
    return fact


def _fact_side(d: dict) -> dict:
    d = dict(d)
    first = d["evidence"][0] if d["evidence"] else None
    src = first["source"] if first else {}
    d["source"] = ", ".join(x for x in (first["kind"] if first else "", src.get("publisher", ""),
                                        src.get("date", "")) if x) or None
    return d


def _crit_side(c: dict | None, program: Program, cid: str) -> dict:
    if c is None:
        return {"outcome": "absent", "awarded": None, "condition": None, "because": []}
    return {"outcome": c["outcome"], "awarded": c["awarded"], "condition": program.criterion(cid).condition_text,
            "because": c.get("because", [])}


def _decision_params(old: Program, new: Program, params: dict) -> list[str]:
    names = (old.decision.threshold_param, new.decision.threshold_param, old.decision.quota_param,
             new.decision.quota_param)
    return [p for p in dict.fromkeys(names) if p and p in params]


def _decision_causes(row: dict, dec_edits: list[str], rows: list[dict]) -> list[str]:
    """Edits of the decision policy, and for a rank that moved, who overtook whom."""
    causes = list(dec_edits)
    o, n = row["old"], row["new"]
    if row["criteria"] and not causes:
        return []
    if o["rank"] is not None and n["rank"] is not None and o["rank"] != n["rank"]:
        ahead_now = {r["id"] for r in rows if r["new"]["rank"] is not None and r["new"]["rank"] < n["rank"]}
        ahead_then = {r["id"] for r in rows if r["old"]["rank"] is not None and r["old"]["rank"] < o["rank"]}
        if ahead_now - ahead_then:
            causes.append(f"rank {o['rank']} -> {n['rank']}: now behind {', '.join(sorted(ahead_now - ahead_then))}")
        if ahead_then - ahead_now:
            causes.append(f"rank {o['rank']} -> {n['rank']}: now ahead of {', '.join(sorted(ahead_then - ahead_now))}")
    if o["error"] or n["error"]:
        causes.append(f"profile error under the {'new' if n['error'] else 'old'} rules: "
                      f"{(n['error'] or o['error']).splitlines()[0]}")
    return causes or ([] if row["criteria"] or row["causes"] else ["ranking among the other applicants changed"])

