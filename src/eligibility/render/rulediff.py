"""Rendering of a rule-change impact report (`eligibility diff`): text (rich) and markdown."""
from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eligibility.render.text import VERDICT_STYLE
from eligibility.core.formatting import clip, number

_STATUS = {"flipped": "verdict changed", "changed": "score or rank changed", "unchanged": "unchanged"}


def _num(v: Any) -> str:
    return "-" if v is None else f"{number(v)}" if isinstance(v, (int, float)) else str(v)


def _arrow(a: Any, b: Any) -> str:
    return _num(a) if a == b else f"{_num(a)} -> {_num(b)}"


def _counts(c: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in c.items())


def rule_change_lines(report: dict) -> list[str]:
    rc = report["rule_changes"]
    lines = [f"parameter {p['name']}: {_num(p['old'])} -> {_num(p['new'])}" + _param_change(p)
             for p in rc["parameters"]]
    lines += [f"criterion {c['id']}: {'; '.join(c['edits'] + c.get('values', []))}" for c in rc["criteria"]]
    lines += [f"decision: {d}" for d in rc["decision"]]
    lines += [f"stages: {d}" for d in rc.get("stages", [])]
    lines += [f"facts set on the {side} side for every applicant: "
              + ", ".join(f"{k}={v}" for k, v in report[side]["set"].items())
              for side in ("old", "new") if report[side].get("set")]
    return lines or ["no change that affects outcomes (descriptions, sources or order only)"]


def _param_change(p: dict) -> str:
    if p["change"] == "dated value":
        basis = f", {p['basis']}" if p.get("basis") else ""
        return f" (dated value: the value in force from {p['effective']['new']}, was from {p['effective']['old']}{basis})"
    return "" if p["change"] == "value" else f" ({p['change']})"


def _side(info: dict) -> str:
    return info["path"] + (f" (as of {info['as_of']})" if info.get("as_of") else "")


def summary_line(report: dict) -> str:
    s = report["summary"]
    return (f"{s['flipped']} of {s['applicants']} applicants change verdict, {s['changed']} change score or rank "
            f"(before: {_counts(s['verdicts_old'])}; after: {_counts(s['verdicts_new'])})")


def render_diff(report: dict, console: Console) -> None:
    console.print(Text.assemble(("Rule change impact  ", "bold"), _side(report["old"]), " -> ", _side(report["new"])))
    console.print(Text(summary_line(report), style="bold"))
    console.print(Text("Rule changes:", style="bold"))
    for line in rule_change_lines(report):
        console.print(Text(f"  - {line}"), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAVY, title="Applicants (verdict changes first)")
    for col in ("applicant", "verdict", "score", "rank", "because"):
        table.add_column(col, overflow="fold")
    for a in report["applicants"]:
        verdict = Text(a["old"]["verdict"], style=VERDICT_STYLE.get(a["old"]["verdict"], ""))
        if a["status"] == "flipped":
            verdict.append(" -> ")
            verdict.append(a["new"]["verdict"], style=VERDICT_STYLE.get(a["new"]["verdict"], ""))
        name = Text(clip(a["name"]), style="bold" if a["status"] == "flipped" else "")
        table.add_row(name, verdict, _arrow(a["old"]["score"], a["new"]["score"]),
                      _arrow(a["old"]["rank"], a["new"]["rank"]), Text("\n".join(a["causes"])))
    console.print(table)
    for a in report["applicants"]:
        if a["status"] == "flipped" and a["criteria"]:
            console.print(Text(f"{a['name']}: {a['old']['verdict']} -> {a['new']['verdict']}", style="bold"))
            for c in a["criteria"]:
                console.print(Text(f"  {c['id']} ({c['kind']}): {c['old']['outcome']} -> {c['new']['outcome']}"),
                              soft_wrap=True)
                if c["edits"]:
                    console.print(Text(f"    rule edit: {'; '.join(c['edits'])}"), soft_wrap=True)
                if c.get("values"):
                    console.print(Text(f"    parameter value: {'; '.join(c['values'])}"), soft_wrap=True)
                for side in ("old", "new"):
                    cond = c[side]["condition"]
                    why = "; ".join(c[side]["because"])
                    console.print(Text(f"    {side}: {cond or '(absent)'}" + (f"  (because {why})" if why else ""),
                                       style="dim"), soft_wrap=True)


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def render_diff_markdown(report: dict) -> str:
    s = report["summary"]
    lines = [f"## Rule change impact: `{_side(report['old'])}` → `{_side(report['new'])}`", "",
             f"**{summary_line(report)}**", "", "### Rule changes", ""]
    lines += [f"- {_cell(line)}" for line in rule_change_lines(report)]
    flipped = [a for a in report["applicants"] if a["status"] == "flipped"]
    lines += ["", "### Verdict changes", ""]
    if flipped:
        lines += ["| applicant | before | after | score | rank | because |", "|---|---|---|---|---|---|"]
        for a in flipped:
            lines.append(f"| {_cell(a['name'])} | {a['old']['verdict']} | **{a['new']['verdict']}** | "
                         f"{_arrow(a['old']['score'], a['new']['score'])} | {_arrow(a['old']['rank'], a['new']['rank'])} "
                         f"| {_cell('; '.join(a['causes']))} |")
        for a in flipped:
            if not a["criteria"]:
                continue
            lines += ["", f"#### {_cell(a['name'])}", "", "| criterion | before | after | rule edit |", "|---|---|---|---|"]
            for c in a["criteria"]:
                before = f"{c['old']['outcome']}" + (f" ({'; '.join(c['old']['because'])})" if c["old"]["because"] else "")
                after = f"{c['new']['outcome']}" + (f" ({'; '.join(c['new']['because'])})" if c["new"]["because"] else "")
                lines.append(f"| {c['id']} ({c['kind']}) | {_cell(before)} | {_cell(after)} | "
                             f"{_cell('; '.join(c['edits'] + c.get('values', []))) or '-'} |")
    else:
        lines.append("No applicant changes verdict.")
    others = [a for a in report["applicants"] if a["status"] != "flipped"]
    if others:
        lines += ["", f"<details><summary>Other applicants ({s['changed']} with a new score or rank, "
                      f"{s['unchanged']} unchanged)</summary>", "",
                  "| applicant | verdict | score | rank | because |", "|---|---|---|---|---|"]
        for a in others:
            lines.append(f"| {_cell(a['name'])} | {a['new']['verdict']} | {_arrow(a['old']['score'], a['new']['score'])} "
                         f"| {_arrow(a['old']['rank'], a['new']['rank'])} | {_cell('; '.join(a['causes'])) or '-'} |")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
