"""Markdown rendering of one evaluation record (for pull requests, tickets and reports)."""
from __future__ import annotations

from typing import Any
from eligibility.core.text import safe, safe_data
from eligibility.core.formatting import OUTCOME_LABEL, number, up_to, value
from eligibility.render.explain import (EFFECT_LEGEND, EFFECT_SYMBOL, basis_flag, basis_headline, basis_words, cite,
                                        dated_lines, effect_tree, fact_dated, score_line, split_evidence)
from eligibility.render.stages import has_score, standing_lines

_EMOJI = {"met": "✅", "not_met": "❌", "unknown": "❔"}      # GitHub renders these in colour
_MARK = {k: f"{e} {OUTCOME_LABEL[k]}" for k, e in _EMOJI.items()}


def _cell(text: Any) -> str:
    return safe(str(text).replace("|", "\\|").replace("\n", " "), one_line=True)


def render_check(rec: dict) -> str:
    rec = safe_data(rec)                  # control characters shown as escapes, from any source
    a, p = rec["applicant"], rec["program"]
    lines = [f"# {a['name']}: **{rec['verdict']}**", "",
             f"{rec['reason']}", ""]
    if "basis" in rec:
        lines += [f"**{basis_flag(rec)}**: {basis_headline(rec)}", ""]
    lines.append(f"- Program: {p['title']} (`{p['path']}`, sha256 `{p['sha256'][:12]}`)")
    lines += [f"- {line[0].upper()}{line[1:]}" for line in standing_lines(rec) + dated_lines(rec)]
    if has_score(rec):
        lines.append(f"- Score: {number(rec['score'])} (threshold {number(rec['threshold'])}; "
                     f"at most {up_to(rec['score_max'])})")
    lines.append(f"- Engine: {rec['engine']}")
    if rec.get("overrides"):
        lines.append("- What-if overrides: " + ", ".join(f"`{k}={value(v)}`" for k, v in rec["overrides"].items()))
    if rec.get("parameter_overrides"):
        lines.append("- What-if parameters: " + ", ".join(
            f"`{k}={value(v['value'])}` (rules: `{value(v['rules_value'])}`)"
            for k, v in rec["parameter_overrides"].items()))
    if "basis" in rec and has_score(rec):
        lines.append(f"- Numbers: {score_line(rec)}")
    if rec.get("as_of"):
        lines.append(f"- As of: {rec['as_of']} (evidence published later is listed apart)")
    lines += ["", "| criterion | kind | basis | outcome | points | because |", "|---|---|---|---|---|---|"]
    trace = {c["id"]: c for c in (rec.get("trace") or {}).get("criteria", [])}
    for c in rec["criteria"]:
        pts = "" if c["kind"] != "scored" else f"{number(c['awarded'])}/{number(c['points'])}"
        why = "; ".join(trace.get(c["id"], {}).get("because", []))
        basis = (c.get("basis") or {}).get("kind", "")
        if c.get("points_basis"):
            basis += f"; points: {c['points_basis']['kind']}"
        lines.append(f"| {_cell(c['id'])} | {c['kind']} | {_cell(basis)} | {_MARK.get(c['outcome'], c['outcome'])} "
                     f"| {pts} | {_cell(why)} |")
    if rec.get("trace"):
        lines += _trace(rec["trace"]) + _evidence(rec["trace"])
    return "\n".join(lines) + "\n"


def _trace(trace: dict) -> list[str]:
    lines = ["", "## Trace", "", f"{EFFECT_LEGEND}; the condition as written in `code`.", ""]
    for c in trace["criteria"]:
        lines.append(f"### {_MARK.get(c['outcome'], c['outcome'])} {c['id']}: {_cell(c.get('description') or c['title'])}")
        lines += ["", f"Condition: `{c['condition']}`", ""]
        lines += _tree(effect_tree(c["tree"]), 0)
        if c.get("basis"):
            b = c["basis"]
            lines.append(f"- basis: **{b['kind']}**, {basis_words(b['kind'])}" + (f": {_cell(b['note'])}" if b.get("note") else ""))
        src = c.get("source")
        if src:
            where = cite(src.get("document", {}))
            lines.append(f"- source [{src['ref']}]: {_cell(src['clause'])}" + (f" ({_cell(where)})" if where else ""))
        lines.append("")
    return lines


def _tree(node: dict, depth: int) -> list[str]:
    out = [f"{'  ' * depth}- {EFFECT_SYMBOL[node['effect']]} {_cell(node['words'])} `{node['raw']}`"]
    for child in node["children"]:
        out += _tree(child, depth + 1)
    return out


def _evidence(trace: dict) -> list[str]:
    lines = ["## Evidence and sources", ""]
    for name, f in trace["facts"].items():
        dated = fact_dated(f)
        lines.append(f"- **{name}** = {_cell(value(f['value']))}" + (f" ({dated})" if dated else ""))
        known, later = split_evidence(f)
        for e in known:
            lines.append(f"  - {e['kind']}: {_cell(e['note'])} ({_cell(_title_cite(e['source']))})")
        for e in later:
            lines.append(f"  - *published later*: {e['kind']}: {_cell(e['note'])} ({_cell(_title_cite(e['source']))})")
    return lines


def _title_cite(source: dict) -> str:
    return ", ".join(x for x in (source.get("title"), cite(source)) if x)
