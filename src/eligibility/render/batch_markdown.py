"""The batch decision as a Markdown ranked table (for reports, tickets and pull requests)."""
from __future__ import annotations

from eligibility.render.batch_common import criterion_cells, rank_text, score_text
from eligibility.render.explain import entry_basis, program_numbers_note
from eligibility.render.markdown import _cell
from eligibility.core.formatting import number


def render_ranking(result) -> str:
    program, d = result.program, result.decision
    s = result.summary
    quota = "no quota" if d.quota is None else f"quota {d.quota}"
    lines = [f"# {program.title}: decision", "",
             f"- Rules: `{program.path}` (sha256 `{program.sha256[:12]}`)",
             f"- Policy: {quota}, threshold {number(d.threshold)}, {d.policy_words()}",
             f"- {s['inputs']} inputs: " + ", ".join(f"{s[v]} {v}" for v in
                                                   ("selected", "eligible-not-selected", "excluded", "undetermined"))
             + f", {s['errors']} error(s)"]
    numbers = program_numbers_note(program)
    if numbers:
        lines.append(f"- Numbers: {numbers}")
    lines.append("- Basis: the weakest rule each verdict rests on (official, reported, inferred, calibration); "
                 "*unofficial* marks a verdict that does not rest on official text alone")
    lines.append("")
    head = ["rank", "applicant", "verdict", "basis", "score", *[c.id for c in program.criteria], "failed gates",
            "reason", "rests on"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in d.ordered():
        name = e.name if e.final == "error" else f"{e.name} (`{e.id}`)"
        word, unofficial, words = entry_basis(program, e)
        basis = f"{word}, *unofficial*" if unofficial else word
        row = [rank_text(e), name, f"**{e.final}**", basis, score_text(e), *criterion_cells(program, e),
               ", ".join(e.gates_failed), e.reason, words]
        lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return "\n".join(lines) + "\n"
