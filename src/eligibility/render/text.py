"""Terminal rendering with rich: verdict panel, criteria table, trace tree, facts and sources."""
from __future__ import annotations


from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from eligibility.core.formatting import OUTCOME_LABEL, OUTCOME_SYMBOL, clip, number, value

VERDICT_STYLE = {"selected": "bold green", "eligible-not-selected": "bold cyan", "excluded": "bold red",
                 "undetermined": "bold yellow", "error": "bold magenta"}
OUTCOME_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow", "true": "green", "false": "red"}
OUTCOME_MARK = {k: (f"{OUTCOME_SYMBOL[k]} {OUTCOME_LABEL[k]}" if k in ("met", "not_met", "unknown") else OUTCOME_SYMBOL[k],
                    style) for k, style in OUTCOME_STYLE.items()}


def _mark(outcome: str) -> Text:
    label, style = OUTCOME_MARK.get(outcome, ("? " + outcome, "yellow"))
    return Text(label, style=style)


def render_check(rec: dict, console: Console) -> None:
    a, p = rec["applicant"], rec["program"]
    verdict = rec["verdict"]
    head = Text.assemble((verdict.upper(), VERDICT_STYLE.get(verdict, "bold")), "  ", (a["name"], "bold"),
                         f"  ({a['id']})")
    body = [head, Text(rec["reason"])]
    score = f"score {number(rec['score'])} / threshold {number(rec['threshold'])}"
    if rec["score_max"] != rec["score"]:
        score += f" (up to {number(rec['score_max'])} if unknowns are met)"
    body.append(Text(score, style="dim"))
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
    table = Table(title="Criteria", box=box.SIMPLE_HEAVY, show_lines=False)
    for col in ("criterion", "kind", "outcome", "points", "because"):
        table.add_column(col, overflow="fold")
    trace = {c["id"]: c for c in (rec.get("trace") or {}).get("criteria", [])}
    for c in rec["criteria"]:
        pts = "" if c["kind"] == "gate" else f"{number(c['awarded'])}/{number(c['points'])}"
        why = "; ".join(trace.get(c["id"], {}).get("because", []))
        label = Text.assemble(c["id"], "\n", (clip(c["title"]), "dim"))
        table.add_row(label, c["kind"], _mark(c["outcome"]), pts, Text(clip(why, 600)))
    return table


def trace_tree(rec: dict) -> Tree:
    root = Tree(Text("Trace (each test shows actual vs expected)", style="bold"))
    for c in rec["trace"]["criteria"]:
        label = Text.assemble(_mark(c["outcome"]), f"  {c['id']}: ", (c["condition"], "italic"))
        branch = root.add(label)
        _add_node(branch, c["tree"])
        src = c.get("source")
        if src:
            doc = src.get("document", {})
            cite = ", ".join(x for x in (doc.get("publisher"), doc.get("date")) if x)
            branch.add(Text(f"source [{src['ref']}] {src['clause']}" + (f" ({cite})" if cite else ""), style="dim"))
    return root


def _add_node(branch: Tree, node: dict) -> None:
    mark = _mark(node["outcome"]) if node["outcome"] != "unknown" else Text("?", style="yellow")
    kind = node["kind"]
    if kind == "test":
        actual = value(node["actual"]) if node["known"] else "unknown"
        label = Text.assemble(mark, " ", (node["fact"], "bold"), f" = {actual}", ("  expected ", "dim"),
                              node["expected"])
        branch.add(label)
        return
    if kind == "compare":
        branch.add(Text.assemble(mark, " ", (node["worked"], "bold")))
        return
    if kind == "concept":
        label = Text.assemble(mark, " ", ("not " if node["negated"] else ""), (node["concept"], "bold cyan"),
                              f"  ({node['title']})")
    else:
        label = Text.assemble(mark, " ", (kind, "bold"), "  ", (node["text"], "dim"))
    sub = branch.add(label)
    for child in node.get("children", []):
        _add_node(sub, child)


def facts_table(trace: dict) -> Table:
    table = Table(title="Facts and evidence", box=box.SIMPLE, show_lines=False)
    for col in ("fact", "value", "evidence"):
        table.add_column(col, overflow="fold")
    for name, f in trace["facts"].items():
        ev = "\n".join(
            f"{e['kind']}: {e['source'].get('publisher', '')} {e['source'].get('date', '')} — {e['note']}".strip()
            for e in f["evidence"])
        shown = Text(value(f["value"]))
        if f.get("overridden"):
            shown.append(" [override]", style="bold magenta")
        table.add_row(name, shown, Text(ev))      # Text: brackets in values and notes are not markup
    return table
