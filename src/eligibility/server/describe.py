"""The served programme and applicants as plain data (GET /v1/programs, GET /v1/applicants)."""
from __future__ import annotations

from typing import Any

from eligibility import api
from eligibility.evaluate.points import finite
from eligibility.server.workspace import Workspace


def describe_program(ws: Workspace) -> dict[str, Any]:
    """Facts schema, parameters with their basis (description) and value in each version of the
    programme (by effective date), criteria with their source clause and source, the decision policy."""
    p = ws.program
    versions = [p] + [api.load_rules(ws.rules_path, as_of=v.effective, source=ws.source) for v in p.versions]
    sources = {sid: _plain(vars(s)) for sid, s in p.sources.items()}
    return {
        "id": p.id, "title": p.title, "authority": p.authority, "path": p.path, "sha256": p.sha256,
        "version": p.version or None, "effective": p.effective or None, "dates": p.dates, "budget": p.budget,
        "sources": sources,
        "facts": {n: {"type": f.type, "description": f.description, "unit": f.unit or None,
                      "values": list(f.values) or None} for n, f in p.facts.items()},
        "parameters": {n: {"type": prm.type, "value": api.jsonable(prm.value), "description": prm.description,
                           "unit": prm.unit or None,
                           "values": [{"effective": v.effective or None, "version": v.version or None,
                                       "value": api.jsonable(v.parameters[n].value)}
                                      for v in versions if n in v.parameters]}
                       for n, prm in p.parameters.items()},
        "criteria": [{"id": c.id, "title": c.title, "kind": c.kind, "description": c.description,
                      "condition": c.condition_text, "points": finite(c.points) if c.kind == "scored" else None,
                      "points_parameter": c.points_param or None,
                      "source": {"ref": c.source.ref, "clause": c.source.clause, **sources.get(c.source.ref, {})}
                      if c.source else None} for c in p.criteria],
        "decision": {"threshold": p.decision.threshold, "threshold_parameter": p.decision.threshold_param or None,
                     "quota": p.decision.quota, "quota_parameter": p.decision.quota_param or None,
                     "tie_breaks": list(p.decision.tie_breaks),
                     **({"rank_by": [{"key": k.key, "order": k.order} for k in p.decision.rank_by]}
                        if p.decision.rank_by else {})},
        "versions": [{"effective": v.effective, "file": v.file} for v in p.versions],
    }


def applicant_summaries(ws: Workspace) -> list[dict[str, Any]]:
    """Each loaded profile's id, name, path and current fact values (null: unknown)."""
    out = []
    for aid, (path, text) in sorted(ws.profiles.items(), key=lambda kv: kv[1][0]):
        a = api.load_profile(path, ws.program, text)
        facts = {name: api.jsonable(fv.value) if fv else None
                 for name in ws.program.facts for fv in [a.fact(name)]}
        out.append({"id": aid, "name": a.name, "path": path, "facts": facts})
    return out


def _plain(d: dict) -> dict:
    return {k: v for k, v in d.items() if v}
