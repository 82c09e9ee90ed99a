"""Rendering of the counterfactual section (`check --flip`) of a record, as text (rich) or markdown."""
from __future__ import annotations


from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eligibility.render.text import VERDICT_STYLE
from eligibility.analysis.counterfactual import shown as value
from eligibility.core.formatting import number


def change_text(c: dict) -> str:
    """`fact: old -> new (or other)`."""
    alternatives = "".join(f" or {value(v)}" for v in c.get("or", []))
    return f"{c['fact']}: {value(c['from'])} -> {value(c['to'])}{alternatives}"


def _moved(flip: dict) -> str:
    return ", ".join(f"{m['id']} {m['from']}->{m['to']}" for m in flip["criteria"])


def _search_note(flips: dict) -> str:
    s = flips["search"]
    note = (f"searched up to {s['max_changes']} changes over {len(flips['facts_varied'])} facts: "
            f"{s['screened']} candidates screened, {s['engine_runs']} confirmed on the durable engine")
    if s["rejected_by_engine"]:
        note += f", {s['rejected_by_engine']} rejected by the engine"
    if not s["complete"]:
        note += " (search stopped at its limit: more flips may exist)"
    return note


def render_flips(flips: dict, console: Console) -> None:
    targets = " or ".join(flips["targets"])
    if flips["found"]:
        console.print(Text(f"What would flip it ({flips['from']} -> {targets}), smallest changes first:",
                           style="bold"))
        for i, f in enumerate(flips["found"], 1):
            lines = Text(f"{i:>3}. ")
            lines.append("\n     ".join(change_text(c) for c in f["changes"]), style="bold")
            lines.append("\n     -> ")
            lines.append(f["verdict"], style=VERDICT_STYLE.get(f["verdict"], ""))
            lines.append(f", score {number(f['score'])}; {_moved(f)}")
            lines.append("\n     try: " + " ".join(f"--set {s}" for s in f["set"]), style="dim")
            console.print(lines, soft_wrap=True)
    else:
        console.print(Text(f"No change of up to {flips['search']['max_changes']} facts makes it {targets}.",
                           style="bold"))
    if flips["questions"]:
        table = Table(title="Questions still to ask (most decisive first)", box=box.SIMPLE)
        for col in ("fact", "settles", "may settle", "answers"):
            table.add_column(col, overflow="fold")
        for q in flips["questions"]:
            answers = ", ".join(f"{value(a['value'])} -> {a['verdict']}" for a in q["answers"])
            table.add_row(q["fact"], ", ".join(q["settles"]) or "-", ", ".join(q["may_settle"]) or "-", Text(answers))
        console.print(table)
    console.print(Text(_search_note(flips), style="dim"))


def render_flips_markdown(flips: dict) -> str:
    targets = " or ".join(flips["targets"])
    lines = ["", f"## What would flip it ({flips['from']} -> {targets})", ""]
    if flips["found"]:
        lines += ["| # | changes | verdict | score | criteria moved |", "|---|---|---|---|---|"]
        for i, f in enumerate(flips["found"], 1):
            changes = "<br>".join(f"`{change_text(c)}`" for c in f["changes"])
            lines.append(f"| {i} | {changes} | {f['verdict']} | {number(f['score'])} | {_moved(f)} |")
    else:
        lines.append(f"No change of up to {flips['search']['max_changes']} facts makes it {targets}.")
    if flips["questions"]:
        lines += ["", "### Questions still to ask", "", "| fact | settles | may settle | answers |", "|---|---|---|---|"]
        for q in flips["questions"]:
            answers = ", ".join(f"`{value(a['value'])}` -> {a['verdict']}" for a in q["answers"])
            lines.append(f"| {q['fact']} | {', '.join(q['settles']) or '-'} | {', '.join(q['may_settle']) or '-'} "
                         f"| {answers} |")
    lines += ["", f"_{_search_note(flips)}._"]
    return "\n".join(lines) + "\n"
