"""Explanations in words, shared by the text, markdown and HTML renderers: what a verdict rests on
(its basis), each trace line's effect on its criterion, and evidence in time."""
from __future__ import annotations

from typing import Any

from eligibility.core.formatting import number, value
from eligibility.language.basis import BASIS_MEANING

# The mark of a trace line says what the line does for its criterion, not whether a test is true.
EFFECT_SYMBOL = {"helps": "✔", "hurts": "✘", "unknown": "?"}
EFFECT_LEGEND = "✔ supports the criterion · ✘ works against it · ? unknown"
_OPS = {"==": "", "!=": "not ", ">=": "at least ", ">": "more than ", "<=": "at most ", "<": "less than ",
        "in": "one of ", "not in": "none of ", "contains": "including ", "does not contain": "not including "}


def basis_words(kind: str | None) -> str:
    return BASIS_MEANING.get(kind or "calibration", kind or "")


def rests_on_words(rec: dict) -> str:
    """`gate foreign_independence: a press reading; points: this project's calibration, ...`."""
    detail = rec.get("basis_detail") or {}
    groups: dict[str, list[str]] = {}
    for item in detail.get("rests_on", []):
        groups.setdefault(item["basis"], []).append(item["what"])
    return "; ".join(f"{basis_words(kind)} ({', '.join(whats)})" for kind, whats in groups.items())


def basis_headline(rec: dict) -> str:
    """One line under the reason: the verdict's basis in words, its notes, and second-hand facts.
    e.g. `excluded on a press reading (gate foreign_independence): the ministry published ...`."""
    detail = rec.get("basis_detail") or {}
    text = f"{rec['verdict']} on {rests_on_words(rec) or basis_words(rec.get('basis'))}"
    notes = detail.get("notes") or []
    if notes:
        text += ": " + "; ".join(notes)
    if detail.get("secondhand_facts"):
        text += f"; known only from press or analysis: {', '.join(detail['secondhand_facts'])}"
    return text


def basis_flag(rec: dict) -> str:
    """The filterable word: `basis: reported, unofficial` or `basis: official`."""
    return f"basis: {rec.get('basis')}" + (", unofficial" if rec.get("unofficial") else "")


def score_line(rec: dict) -> str:
    """`score 70 / threshold 50 (up to 100 if unknowns are met); points: calibration, not published`."""
    text = f"score {number(rec['score'])} / threshold {number(rec['threshold'])}"
    if rec["score_max"] is None:
        text += " (no upper bound if unknowns are met: an unknown input of the points has no declared range)"
    elif rec["score_max"] != rec["score"]:
        text += f" (up to {number(rec['score_max'])} if unknowns are met)"
    detail = rec.get("basis_detail") or {}
    parts = [f"{what}: {_short(detail.get(what))}" for what in ("points", "threshold") if detail.get(what)]
    return text + ("; " + "; ".join(parts) if parts else "")


def score_sum(rec: dict) -> str:
    """The score as the sum of the points awarded: `score 44 = 24 (panel_mark) + 20 (excellent)`."""
    parts = [f"{number(c['awarded'])} ({c['id']})" for c in rec["criteria"] if c["kind"] == "scored" and c["awarded"]]
    return f"score {number(rec['score'])} = " + (" + ".join(parts) or "0 (no points awarded)")


def _short(kind: str | None) -> str:
    return "calibration, not published" if kind == "calibration" else f"{kind} ({basis_words(kind)})"


def effect_tree(node: dict, negated: bool = False) -> dict:
    """The trace tree in words: each node's `effect` on its criterion (a true test under a `not`
    works against it), `words` for a reader and `raw` for the condition as written. A `not` over
    one test reads as one line: `not initialised from foreign weights: it is false`."""
    outcome = node["outcome"]
    effect = "unknown" if outcome == "unknown" else "helps" if (outcome == "true") != negated else "hurts"
    kind = node["kind"]
    if kind == "not" and len(node.get("children", [])) == 1 and node["children"][0]["kind"] == "test":
        inner = node["children"][0]
        return {"effect": effect, "words": "not " + _test_words(inner), "raw": node["text"], "children": []}
    if kind == "test":
        return {"effect": effect, "words": _test_words(node), "raw": f"{node['fact']} {node['expected']}",
                "children": []}
    if kind == "compare":      # a comparison of value expressions, with its arithmetic worked out
        return {"effect": effect, "words": node["worked"], "raw": node["text"], "children": []}
    flip = negated != (kind == "not" or (kind == "concept" and node.get("negated")))
    if kind == "concept":
        words = ("not: " if node.get("negated") else "") + node["title"]
        raw = ("not " if node.get("negated") else "") + node["concept"]
    else:
        words = {"and": "all of these", "or": "any of these", "not": "not this"}.get(kind, kind)
        raw = node["text"]
    return {"effect": effect, "words": words, "raw": raw,
            "children": [effect_tree(child, flip if kind in ("not", "concept") else negated)
                         for child in node.get("children", [])]}


def _test_words(node: dict) -> str:
    actual = value(node["actual"], quote=False) if node["known"] else "unknown"
    op, _, expected = node["expected"].partition(" ")
    for long in ("not in", "does not contain"):
        if node["expected"].startswith(long + " "):
            op, expected = long, node["expected"][len(long) + 1:]
    fact = node["fact"].replace("_", " ")
    if expected == "true" and op == "==":
        return f"{fact}: it is {actual}"
    return f"{fact} {_OPS.get(op, op + ' ')}{expected}: it is {actual}"


def split_evidence(fact: dict) -> tuple[list[dict], list[dict]]:
    """Evidence published by the as-of date, and evidence published later (shown apart, marked)."""
    return list(fact.get("evidence", [])), list(fact.get("later_evidence", []))


def cite(source: dict) -> str:
    """A source as people cite it: publisher, publication date, and where to open it."""
    where = source.get("url") or source.get("locator")
    return ", ".join(x for x in (source.get("publisher"), _published(source), where) if x)


def _published(source: dict) -> str:
    """`published 2025-08-06, reporting 2025-08-04`: when the text appeared, and the event it reports."""
    text = f"published {source['date']}" if source.get("date") else ""
    if source.get("reports"):
        text += (", " if text else "") + f"reporting {source['reports']}"
    return text


def fact_dated(fact: dict) -> str:
    """`holds from 2025-08-04`: the fact's own date, distinct from its sources' publication dates."""
    return f"holds from {fact['date']}" if fact.get("date") else ""


def entry_basis(program: Any, entry: Any, notes: bool = True) -> tuple[str, bool, str]:
    """A batch entry's basis word, flag and words, from its criterion outcomes (a batch row keeps no
    evidence, so second-hand facts are judged in the records, not here)."""
    from eligibility.language.standing import verdict_basis
    if not entry.outcomes:
        return "", False, ""
    vb = verdict_basis(program, entry.verdict, entry.outcomes, published_by=entry.published_by)
    return vb.word, vb.unofficial, vb.summary(notes)


def program_numbers_note(program: Any) -> str:
    """`points: calibration, not published; threshold: calibration, not published` (or "")."""
    from eligibility.language.standing import points_basis
    parts = []
    pb = points_basis(program)
    if pb:
        parts.append(f"points: {_short(pb)}")
    if program.decision.threshold:
        tb = program.threshold_basis()
        parts.append(f"threshold: {_short(tb.kind if tb else 'calibration')}")
    return "; ".join(parts)


def dated_lines(rec: dict) -> list[str]:
    """One line per dated parameter: the value used, in force from which date, on what basis."""
    out = []
    for name, d in ((rec.get("trace") or {}).get("dated_parameters") or {}).items():
        basis = (d.get("basis") or {}).get("kind") or "no basis given"
        line = f"parameter {name} = {value(d['value'])}: the value in force from {d['effective']} ({basis})"
        if "rules_value" in d:
            line = (f"parameter {name} = {value(d['value'])} by --param (the rules' value in force from "
                    f"{d['effective']}: {value(d['rules_value'])}, {basis})")
        out.append(line)
    return out
