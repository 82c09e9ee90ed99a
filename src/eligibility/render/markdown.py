"""Markdown rendering of one evaluation record (for pull requests, tickets and reports)."""
from __future__ import annotations

from typing import Any
from eligibility.core.text import safe, safe_data
from eligibility.core.formatting import OUTCOME_LABEL, number, value

_EMOJI = {"met": "✅", "not_met": "❌", "unknown": "❔"}      # GitHub renders these in colour
_MARK = {k: f"{e} {OUTCOME_LABEL[k]}" for k, e in _EMOJI.items()}


def _cell(text: Any) -> str:
    return safe(str(text).replace("|", "\\|").replace("\n", " "), one_line=True)


def render_check(rec: dict) -> str:
    rec = safe_data(rec)                  # control characters shown as escapes, from any source
    a, p = rec["applicant"], rec["program"]
    lines = [f"# {a['name']}: **{rec['verdict']}**", "",
             f"{rec['reason']}", "",
             f"- Program: {p['title']} (`{p['path']}`, sha256 `{p['sha256'][:12]}`)",
             f"- Score: {number(rec['score'])} (threshold {number(rec['threshold'])}; at most {number(rec['score_max'])})",
             f"- Engine: {rec['engine']}"]
    if rec.get("overrides"):
        lines.append("- What-if overrides: " + ", ".join(f"`{k}={value(v)}`" for k, v in rec["overrides"].items()))
    if rec.get("parameter_overrides"):
        lines.append("- What-if parameters: " + ", ".join(
            f"`{k}={value(v['value'])}` (rules: `{value(v['rules_value'])}`)"
            for k, v in rec["parameter_overrides"].items()))
    if rec.get("as_of"):
        lines.append(f"- As of: {rec['as_of']}")
    lines += ["", "| criterion | kind | outcome | points | because |", "|---|---|---|---|---|"]
    trace = {c["id"]: c for c in (rec.get("trace") or {}).get("criteria", [])}
    for c in rec["criteria"]:
        pts = "" if c["kind"] == "gate" else f"{number(c['awarded'])}/{number(c['points'])}"
        why = "; ".join(trace.get(c["id"], {}).get("because", []))
        lines.append(f"| {_cell(c['id'])} | {c['kind']} | {_MARK.get(c['outcome'], c['outcome'])} | {pts} | {_cell(why)} |")
    if rec.get("trace"):
        lines += ["", "## Evidence", ""]
        for name, f in rec["trace"]["facts"].items():
            lines.append(f"- **{name}** = {_cell(value(f['value']))}")
            for e in f["evidence"]:
                s = e["source"]
                cite = ", ".join(x for x in (s.get("title"), s.get("publisher"), s.get("date"), s.get("url") or s.get("locator")) if x)
                lines.append(f"  - {e['kind']}: {_cell(e['note'])} ({_cell(cite)})")
    return "\n".join(lines) + "\n"
