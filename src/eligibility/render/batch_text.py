"""The batch decision as a rich ranked table (colour on a terminal, plain text otherwise)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from eligibility.core.text import safe
from eligibility.render.batch_common import rank_text, score_text
from eligibility.render.text import OUTCOME_STYLE, VERDICT_STYLE
from eligibility.core.formatting import OUTCOME_SYMBOL, clip, number

_MARK = {k: (OUTCOME_SYMBOL[k], OUTCOME_STYLE[k]) for k in ("met", "not_met", "unknown")}


def breakdown(program, entry) -> Text:
    """One line per criterion: mark, id, and points awarded (scored) or `gate`."""
    text = Text()
    if not entry.outcomes:
        return text
    width = max(len(c.id) for c in program.criteria)
    awarded = iter(entry.awarded)
    for i, (c, outcome) in enumerate(zip(program.criteria, entry.outcomes)):
        mark, style = _MARK.get(outcome, ("?", "yellow"))
        pts = f"{number(next(awarded))}/{number(c.points)}" if c.kind == "scored" else "gate"
        text.append(("\n" if i else "") + mark, style=style)
        text.append(f" {c.id.ljust(width)} {pts:>6}")
    return text


def render_ranking(result, console: Console) -> None:
    program, d = result.program, result.decision
    quota = "no quota" if d.quota is None else f"quota {d.quota}"
    when = "".join(x for x in (f" [{program.version}]" if program.version else "",
                               f", as of {result.as_of}" if result.as_of else ""))
    title = f"{program.title}{when}\n{quota}, threshold {number(d.threshold)}, ties broken by {', '.join(d.tie_breaks) or 'id'}"
    table = Table(title=escape(title), box=box.SIMPLE_HEAVY, show_lines=False)
    table.add_column("rank", justify="right")
    table.add_column("applicant", overflow="fold")
    table.add_column("verdict", overflow="fold")
    table.add_column("score", justify="right")
    table.add_column("breakdown", no_wrap=True)
    table.add_column("failed gates", overflow="fold")
    table.add_column("reason", overflow="fold", ratio=1, min_width=24)
    for e in d.ordered():
        verdict = Text(e.final, style=VERDICT_STYLE.get(e.final, "bold"))
        shown = safe(clip(e.name), one_line=True)
        name = Text(shown) if e.final == "error" else Text.assemble(shown, "\n", (safe(clip(e.id), one_line=True), "dim"))
        table.add_row(rank_text(e), name, verdict, score_text(e), breakdown(program, e),
                      Text(", ".join(e.gates_failed)), Text(safe(clip(e.reason, 600), one_line=True)))
    console.print(table)
    s = result.summary
    counts = ", ".join(f"{s[v]} {v}" for v in ("selected", "eligible-not-selected", "excluded", "undetermined"))
    line = Text(f"{s['inputs']} inputs: {counts}, {s['errors']} error(s)")
    if s["errors"]:
        line.stylize("bold magenta")
    console.print(line)
