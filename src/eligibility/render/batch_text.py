"""The batch decision as a rich ranked table (colour on a terminal, plain text otherwise)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from eligibility.core.text import safe
from eligibility.render.batch_common import rank_text, score_text
from eligibility.render.explain import entry_basis, program_numbers_note
from eligibility.render.text import OUTCOME_STYLE, VERDICT_STYLE
from eligibility.core.formatting import OUTCOME_SYMBOL, clip, number, up_to
from eligibility.evaluate.points import finite

_MARK = {k: (OUTCOME_SYMBOL[k], OUTCOME_STYLE[k]) for k in ("met", "not_met", "unknown")}


def render_ranking(result, console: Console) -> None:
    """A ranked table of rank, applicant, verdict, basis and score, with each applicant's criteria
    and reason on lines of their own under its row, wrapped at word boundaries to the width."""
    program, d = result.program, result.decision
    quota = "no quota" if d.quota is None else f"quota {d.quota}"
    when = "".join(x for x in (f" [{program.version}]" if program.version else "",
                               f", as of {result.as_of}" if result.as_of else ""))
    console.print(Text(f"{program.title}{when}", style="bold"))
    console.print(Text(f"{quota}, threshold {number(d.threshold)}, {d.policy_words()}"))
    numbers = program_numbers_note(program)
    if numbers:
        console.print(Text(numbers, style="yellow"))
    console.print()
    for e in d.ordered():
        word, unofficial, words = entry_basis(program, e, notes=False)
        table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1), expand=True)
        table.add_column("rank", justify="right", width=4, no_wrap=True)
        table.add_column("applicant", overflow="fold", ratio=1)
        table.add_column("verdict", no_wrap=True)
        table.add_column("score", justify="right", no_wrap=True)
        shown = safe(clip(e.name), one_line=True)
        name = Text(shown) if e.final == "error" else Text.assemble(shown, (f" ({safe(clip(e.id), one_line=True)})", "dim"))
        basis = Text(f"{word}{', unofficial' if unofficial else ''}", style="yellow" if unofficial else "green")
        verdict = Text(e.final, style=VERDICT_STYLE.get(e.final, "bold"))
        table.add_row(rank_text(e), name, verdict, Text(score_text(e), style="bold"))
        console.print(table)
        body = []
        if e.outcomes:
            body.extend(_criteria_lines(program, e, console.width - 5))
        if word:
            body.append(Text(f"basis: {word}{' (unofficial)' if unofficial else ''}: {words}",
                             style="yellow" if unofficial else ""))
        body.append(Text(safe(clip(e.reason, 600), one_line=True)))
        for text in body:
            console.print(Padding(text, (0, 0, 0, 5)))
    s = result.summary
    counts = ", ".join(f"{s[v]} {v}" for v in ("selected", "eligible-not-selected", "excluded", "undetermined"))
    line = Text(f"{s['inputs']} inputs: {counts}, {s['errors']} error(s)")
    if s["errors"]:
        line.stylize("bold magenta")
    console.print(line)


def _criteria_lines(program, entry, width: int) -> list[Text]:
    """`✔ autonomy · ✘ foreign_independence · ✔ multimodal 30/30 …`, broken between criteria only."""
    lines, line = [], Text()
    awarded = iter(entry.awarded)
    for c, outcome in zip(program.criteria, entry.outcomes):
        mark, style = _MARK.get(outcome, ("?", "yellow"))
        pts = f" {number(next(awarded))}/{up_to(finite(c.points))}" if c.kind == "scored" else ""
        item = Text.assemble((mark, style), f" {c.id}{pts}")
        if line.plain and len(line.plain) + 3 + len(item.plain) > width:
            lines.append(line)
            line = Text()
        if line.plain:
            line.append(" · ")
        line.append_text(item)
    return lines + [line] if line.plain else lines
