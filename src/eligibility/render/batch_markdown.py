"""The batch decision as a Markdown ranked table (for reports, tickets and pull requests)."""
from __future__ import annotations

from eligibility.render.batch_common import criterion_cells, rank_text, score_text
from eligibility.render.markdown import _cell
from eligibility.core.formatting import number


def render_ranking(result) -> str:
    program, d = result.program, result.decision
    s = result.summary
    quota = "no quota" if d.quota is None else f"quota {d.quota}"
    lines = [f"# {program.title}: decision", "",
             f"- Rules: `{program.path}` (sha256 `{program.sha256[:12]}`)",
             f"- Policy: {quota}, threshold {number(d.threshold)}, ties broken by {', '.join(d.tie_breaks) or 'id'}",
             f"- {s['inputs']} inputs: " + ", ".join(f"{s[v]} {v}" for v in
                                                   ("selected", "eligible-not-selected", "excluded", "undetermined"))
             + f", {s['errors']} error(s)", ""]
    head = ["rank", "applicant", "verdict", "score", *[c.id for c in program.criteria], "failed gates", "reason"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in d.ordered():
        name = e.name if e.final == "error" else f"{e.name} (`{e.id}`)"
        row = [rank_text(e), name, f"**{e.final}**", score_text(e), *criterion_cells(program, e),
               ", ".join(e.gates_failed), e.reason]
        lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return "\n".join(lines) + "\n"
