"""Terminal rendering with rich: verdict panel, criteria table, trace tree, facts and sources."""
from __future__ import annotations


from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from eligibility.core.text import safe_data
from eligibility.core.formatting import OUTCOME_LABEL, OUTCOME_SYMBOL, clip, number, value
from eligibility.render.stages import has_score, standing_lines
from eligibility.render.explain import (EFFECT_LEGEND, EFFECT_SYMBOL, basis_flag, basis_headline, basis_words, cite,
                                        dated_lines, effect_tree, fact_dated, score_line, score_sum, split_evidence)

VERDICT_STYLE = {"selected": "bold green", "eligible-not-selected": "bold cyan", "excluded": "bold red",
                 "undetermined": "bold yellow", "error": "bold magenta"}
OUTCOME_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow", "true": "green", "false": "red"}
OUTCOME_MARK = {k: (f"{OUTCOME_SYMBOL[k]} {OUTCOME_LABEL[k]}" if k in ("met", "not_met", "unknown") else OUTCOME_SYMBOL[k],
                    style) for k, style in OUTCOME_STYLE.items()}


def _mark(outcome: str) -> Text:
    label, style = OUTCOME_MARK.get(outcome, ("? " + outcome, "yellow"))
    return Text(label, style=style)


def render_check(rec: dict, console: Console) -> None:
    rec = safe_data(rec)                  # control characters shown as escapes, from any source
    a, p = rec["applicant"], rec["program"]
    verdict = rec["verdict"]
    head = Text.assemble((verdict.upper(), VERDICT_STYLE.get(verdict, "bold")), "  ", (a["name"], "bold"),
                         f"  ({a['id']})")
    if "basis" in rec:
        head.append("  ")
        head.append(f"[{basis_flag(rec)}]", style="bold yellow" if rec.get("unofficial") else "bold green")
    body = [head, Text(rec["reason"])]
    if "basis" in rec:
        body.append(Text(basis_headline(rec), style="yellow" if rec.get("unofficial") else ""))
    if has_score(rec):
        body.append(Text(score_line(rec), style="dim"))
        if any("points_formula" in c for c in (rec.get("trace") or {}).get("criteria", [])):
            body.append(Text(score_sum(rec), style="dim"))
    body += [Text(line, style="bold") for line in standing_lines(rec)]
    body += [Text(line, style="dim") for line in dated_lines(rec)]
    if rec.get("overrides"):
        body.append(Text("what-if overrides: " + ", ".join(f"{k}={value(v)}" for k, v in rec["overrides"].items()),
                         style="bold magenta"))
    if rec.get("parameter_overrides"):
        body.append(Text("what-if parameters: " + ", ".join(
            f"{k}={value(v['value'])} (rules: {value(v['rules_value'])})"
            for k, v in rec["parameter_overrides"].items()), style="bold magenta"))
    if rec.get("as_of"):
        body.append(Text(f"as of {rec['as_of']}", style="dim"))
    console.print(Panel(Group(*body), title=escape(clip(p["title"])),
                        subtitle=escape(f"{p['path']} · engine {rec['engine']}"),
                        box=box.ROUNDED))
    console.print(criteria_table(rec))
    trace = rec.get("trace")
    if trace:
        console.print(trace_tree(rec))
        console.print(facts_table(trace))


def criteria_table(rec: dict) -> Table:
    """One row per criterion; what decided it goes under its name, in the widest column, so that
    at 80 columns long fact names wrap whole rather than being cut."""
    table = Table(title="Criteria", box=box.SIMPLE_HEAVY, show_lines=False)
    table.add_column("criterion · because", overflow="fold", ratio=1)
    for col in ("kind", "outcome", "points"):
        table.add_column(col, no_wrap=True)
    trace = {c["id"]: c for c in (rec.get("trace") or {}).get("criteria", [])}
    for c in rec["criteria"]:
        pts = "" if c["kind"] != "scored" else f"{number(c['awarded'])}/{number(c['points'])}"
        why = "; ".join(trace.get(c["id"], {}).get("because", []))
        if "points_worked" in trace.get(c["id"], {}):
            why += f"\npoints: {trace[c['id']]['points_worked']}"
        label = Text.assemble((c["id"], "bold"), "  ", (clip(c["title"]), "dim"))
        if why:
            label.append("\nbecause " + clip(why, 600))
        kind = Text(c["kind"])
        if c.get("basis") or c.get("points_basis"):
            kind.append("\n" + (c["basis"] or {}).get("kind", "basis?"), style="dim")
        if c.get("points_basis"):
            kind.append(f"\npoints: {c['points_basis']['kind']}", style="dim")
        table.add_row(label, kind, _mark(c["outcome"]), pts, end_section=True)
    return table


def trace_tree(rec: dict) -> Tree:
    root = Tree(Text.assemble(("Trace", "bold"), ("  " + EFFECT_LEGEND + "; [the condition as written]", "dim")))
    for c in rec["trace"]["criteria"]:
        label = Text.assemble(_mark(c["outcome"]), f"  {c['id']}: ", (c.get("description") or c["title"]))
        label.append(f"  [{c['condition']}]", style="dim italic")
        branch = root.add(label)
        _add_node(branch, effect_tree(c["tree"]))
        if "points_formula" in c:
            branch.add(Text("points: " + "; ".join([c["points_worked"], *c["points_because"]])
                            + ("" if c["outcome"] == "met" else " (not awarded: the criterion is " + OUTCOME_LABEL[c["outcome"]] + ")")))
        if c.get("basis"):
            b = c["basis"]
            branch.add(Text(f"basis: {b['kind']}, {basis_words(b['kind'])}" + (f": {b['note']}" if b.get("note") else ""),
                            style="yellow" if b["kind"] != "official" else "dim"))
        src = c.get("source")
        if src:
            where = cite(src.get("document", {}))
            branch.add(Text(f"source [{src['ref']}] {src['clause']}" + (f" ({where})" if where else ""), style="dim"))
    return root


_EFFECT_STYLE = {"helps": "green", "hurts": "red", "unknown": "yellow"}


def _add_node(branch: Tree, node: dict) -> None:
    mark = Text(EFFECT_SYMBOL[node["effect"]], style=_EFFECT_STYLE[node["effect"]])
    label = Text.assemble(mark, " ", node["words"], (f"  [{node['raw']}]", "dim"))
    sub = branch.add(label)
    for child in node["children"]:
        _add_node(sub, child)


def facts_table(trace: dict) -> Table:
    table = Table(title="Facts and evidence", box=box.SIMPLE, show_lines=False)
    table.add_column("fact · value", overflow="fold", ratio=1)
    table.add_column("evidence", overflow="fold", ratio=2)
    for name, f in trace["facts"].items():
        known, later = split_evidence(f)
        ev = Text("\n".join(f"{e['kind']}: {cite(e['source'])} — {e['note']}" for e in known))
        for e in later:
            ev.append(("\n" if ev.plain else "") + f"published later: {e['kind']}: {cite(e['source'])} — {e['note']}",
                      style="dim")
        shown = Text.assemble((name, "bold"), "\n", value(f["value"]))
        if fact_dated(f):
            shown.append("\n" + fact_dated(f), style="dim")
        if f.get("overridden"):
            shown.append(" [override]", style="bold magenta")
        table.add_row(shown, ev, end_section=True)      # Text: brackets in values and notes are not markup
    return table
