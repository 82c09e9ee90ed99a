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

from typing import Any, Iterable, Mapping

from eligibility.program.batch import collect_records
from eligibility.program.inputs import expand_paths
from eligibility.program.decision import Entry
from eligibility.program.ranking import keys_text, rank_keys
from eligibility.core.errors import InputError, Problem
from eligibility.language.expr import Node, Ref
from eligibility.language.model import LEAVES, Program, leaf_params
from eligibility.records.record import program_info
from eligibility.evaluate.trace import jsonable, fact_dict
from eligibility.language.versions import load_rules
from eligibility.core.formatting import number

SCHEMA = "eligibility.rulediff/1"
FLIPPED, CHANGED, UNCHANGED = "flipped", "changed", "unchanged"


# -- inputs ----------------------------------------------------------------------------------
def load_rules_ref(spec: str, as_of: str | None = None, params: Mapping[str, Any] | None = None,
                   params_label: str = "parameter override") -> Program:
    """Load a rules file by path, or from git history as `git:REV:path` (path relative to here);
    with `as_of`, the version of it in force on that date (api.load_rules); `params` overrides
    parameters on this side (`params_label` names where they were given, in problems)."""
    return load_rules(spec, params or None, as_of, params_label=params_label)


def profile_paths(items: Iterable[str]) -> list[str]:
    """Profile files named on the command line; a directory stands for its YAML files."""
    out = expand_paths(list(items))
    if not out:
        raise InputError(Problem(", ".join(items) or ".", 0, 0, "no applicant profiles found"))
    return out


# -- evaluation ---------------------------------------------------------------------------------
def evaluate_profiles(program: Program, paths: list[str], engine: str = "durable",
                      as_of: str | None = None) -> list[dict]:
    """Every profile evaluated through the batch pipeline, ranked with the program's quota.

    Returns one row per input, in order: {"path", "record" (evaluation record without the trace,
    each criterion with its `because`) or None, "error", "entry" (decision entry), "facts" (the
    trace's facts with their evidence, or None)}."""
    result, records = collect_records(program, paths, engine, as_of)
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
        rows.append({"path": entry.path, "record": rec, "error": error, "entry": entry, "facts": facts})
    return rows


# -- what changed in the rules -------------------------------------------------------------------
def parameter_changes(old: Program, new: Program) -> dict[str, dict]:
    out = {}
    for name in list(old.parameters) + [n for n in new.parameters if n not in old.parameters]:
        a, b = old.parameters.get(name), new.parameters.get(name)
        va, vb = (jsonable(a.value) if a else None), (jsonable(b.value) if b else None)
        if a is None or b is None or va != vb:
            out[name] = {"name": name, "old": va, "new": vb,
                         "change": "added" if a is None else "removed" if b is None else "value"}
    return out


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
    """For each edited criterion id: {"edits": [text, one per edit], "parameters": [changed parameters it reads]}."""
    params = parameter_changes(old, new)
    old_c, new_c = {c.id: c for c in old.criteria}, {c.id: c for c in new.criteria}
    changed_concepts = {cid for cid in set(old.concepts) | set(new.concepts)
                        if (old.concepts.get(cid) and old.concepts[cid].condition_text)
                        != (new.concepts.get(cid) and new.concepts[cid].condition_text)}
    out: dict[str, dict] = {}
    for cid in list(old_c) + [c for c in new_c if c not in old_c]:
        a, b = old_c.get(cid), new_c.get(cid)
        if a is None or b is None:
            out[cid] = {"edits": ["criterion added" if a is None else "criterion removed"], "parameters": []}
            continue
        edits, used = [], []
        if a.kind != b.kind:
            edits.append(f"kind {a.kind} -> {b.kind}")
        if a.condition_text != b.condition_text:
            edits.append(f"condition `{a.condition_text}` -> `{b.condition_text}`")
        for concept in sorted((old.concepts_used(a.condition) | new.concepts_used(b.condition)) & changed_concepts):
            edits.append(f"concept {concept} redefined")
        for p in sorted(_params_of(old, a.condition) | _params_of(new, b.condition)
                        | {x for x in (a.points_param, b.points_param) if x}):
            if p in params:
                used.append(p)
                edits.append(f"parameter {p} {_show(params[p]['old'])} -> {_show(params[p]['new'])}")
        if a.points != b.points and b.points_param not in used:
            edits.append(f"points {number(a.points)} -> {number(b.points)}")
        if edits:
            out[cid] = {"edits": edits, "parameters": used}
    return out


def decision_edits(old: Program, new: Program) -> list[str]:
    a, b = old.decision, new.decision
    out = []
    if a.threshold != b.threshold:
        via = f" (parameter {b.threshold_param or a.threshold_param})" if (a.threshold_param or b.threshold_param) else ""
        out.append(f"threshold {number(a.threshold)} -> {number(b.threshold)}{via}")
    if a.quota != b.quota:
        via = f" (parameter {b.quota_param or a.quota_param})" if (a.quota_param or b.quota_param) else ""
        out.append(f"quota {a.quota} -> {b.quota}{via}")
    if a.tie_breaks != b.tie_breaks:
        out.append(f"tie-breaks {', '.join(a.tie_breaks)} -> {', '.join(b.tie_breaks)}")
    if a.rank_by != b.rank_by and rank_keys(a) != rank_keys(b):
        out.append(f"ranked by {keys_text(rank_keys(a))} -> {keys_text(rank_keys(b))}")
    return out


def _show(v: Any) -> str:
    return "(none)" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


# -- the comparison -------------------------------------------------------------------------------
def compare(old: Program, new: Program, paths: list[str], engine: str = "durable",
            old_as_of: str | None = None, new_as_of: str | None = None) -> dict:
    """The whole diff report (schema eligibility.rulediff/1) as plain, JSON-ready data.

    With dates, each side is evaluated with the facts known on its date (pass the programs
    api.load_rules chose for those dates), and fact changes between the dates are reported."""
    before = evaluate_profiles(old, paths, engine, old_as_of)
    after = evaluate_profiles(new, paths, engine, new_as_of)
    params = parameter_changes(old, new)
    edits = criterion_edits(old, new)
    dec_edits = decision_edits(old, new)
    dated = old_as_of != new_as_of
    rows = [_applicant(a, b, edits, params, old, new, (old_as_of, new_as_of) if dated else None)
            for a, b in zip(before, after)]
    order = {FLIPPED: 0, CHANGED: 1, UNCHANGED: 2}
    rows.sort(key=lambda r: (order[r["status"]], r["new"]["rank"] or 10 ** 9, r["old"]["rank"] or 10 ** 9,
                             r["name"].casefold(), r["path"]))
    for r in rows:
        if r["status"] != UNCHANGED:
            r["causes"] += _decision_causes(r, dec_edits, rows)
            r["parameters"] += [params[p] for p in _decision_params(old, new, params) if params[p] not in r["parameters"]]
    counts = {side: _counts(rows, side) for side in ("old", "new")}
    return {
        "schema": SCHEMA,
        "old": {**_program_info(old), "as_of": old_as_of}, "new": {**_program_info(new), "as_of": new_as_of},
        "rule_changes": {"parameters": list(params.values()),
                         "criteria": [{"id": k, **v} for k, v in edits.items()],
                         "decision": dec_edits},
        "summary": {"applicants": len(rows), "flipped": sum(r["status"] == FLIPPED for r in rows),
                    "changed": sum(r["status"] == CHANGED for r in rows),
                    "unchanged": sum(r["status"] == UNCHANGED for r in rows),
                    "verdicts_old": counts["old"], "verdicts_new": counts["new"]},
        "applicants": rows,
    }


def _program_info(p: Program) -> dict:
    return {**program_info(p), "threshold": p.decision.threshold, "quota": p.decision.quota}


def _counts(rows: list[dict], side: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r[side]["verdict"]] = out.get(r[side]["verdict"], 0) + 1
    return out


def _side(row: dict) -> dict:
    e: Entry = row["entry"]
    return {"verdict": e.final, "score": e.score if row["record"] else None, "rank": e.rank,
            "reason": e.reason, "error": row["error"]}


def _applicant(a: dict, b: dict, edits: dict, params: dict, old: Program, new: Program,
               dates: tuple[str | None, str | None] | None = None) -> dict:
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
    facts = fact_changes(a["facts"], b["facts"], dates) if dates else {}
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
                      "evidence": [f for name, f in facts.items() if name in read]})
    used = list(dict.fromkeys(p for m in moved for p in edits.get(m["id"], {}).get("parameters", [])))
    causes = _dated_causes(moved) if dates else \
        [f"{m['id']}: {m['old']['outcome']} -> {m['new']['outcome']}" + _because(m, False) for m in moved]
    return {"path": a["path"], "id": ident.get("id") or a["entry"].id, "name": ident.get("name") or a["entry"].name,
            "status": status, "old": old_side, "new": new_side, "criteria": moved,
            "parameters": [params[p] for p in used], "causes": causes,
            **({"fact_changes": list(facts.values())} if dates else {})}


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
    for f in moved.get("evidence", []):
        if f["change"] != "value":
            continue
        old_value, new_value = (_show(v) if v is not None else "unknown" for v in (f["old"]["value"], f["new"]["value"]))
        label = "new evidence" if f.get("published_between", True) else \
            "not new evidence" + (f", on record from {f['new']['date']}" if f["new"].get("date") else "")
        parts.append(f"{label}: {f['fact']} {old_value} -> {new_value}"
                     + (f" ({f['new']['source']})" if f["new"].get("source") else ""))
    return f" ({'; '.join(parts)})" if parts else ""


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
    change says whether any evidence of the new value was `published_between` them: only that is
    new evidence (a fact dated before the first date, reported later, is not)."""
    a, b = a or {}, b or {}
    out: dict[str, dict] = {}
    for name in list(a) + [n for n in b if n not in a]:
        then, now = _plain(a.get(name)), _plain(b.get(name))
        if then == now:
            continue
        out[name] = {"fact": name, "change": "value" if then["value"] != now["value"] else "evidence",
                     "old": _fact_side(then), "new": _fact_side(now)}
        if dates:
            low, high = dates
            out[name]["published_between"] = not (low and now.get("date") and now["date"] <= low) and any(
                (not low or e["source"].get("date", "") > low) and (not high or e["source"].get("date", "") <= high)
                for e in now["evidence"] if e["source"].get("date"))
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
    return causes or ([] if row["criteria"] else ["ranking among the other applicants changed"])

