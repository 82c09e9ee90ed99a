"""The self-contained HTML report: evaluation records and the decision in, one HTML document out.

Jinja2 with autoescape on builds the page from templates/report.html.j2; every string that comes from
an input file is escaped. The page has inline CSS and inline SVG, no scripts and nothing to fetch.
Outcomes are shown as colour *and* symbol, so the page reads in black and white and for colour-blind
readers."""
from __future__ import annotations

from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from eligibility import __version__
from eligibility.program.decision import Decision, Entry
from eligibility.records.record import engine_version
from eligibility.render.explain import EFFECT_LEGEND, basis_headline, effect_tree, score_line
from eligibility.core.formatting import OUTCOME_LABEL, OUTCOME_SYMBOL, number, value

# Okabe-Ito colours (safe for the common colour-vision deficiencies), each with its own symbol.
VERDICTS = {
    "selected": {"symbol": "✔", "label": "selected", "class": "v-selected"},
    "eligible-not-selected": {"symbol": "○", "label": "eligible, not selected", "class": "v-notsel"},
    "undetermined": {"symbol": "?", "label": "undetermined", "class": "v-undet"},
    "excluded": {"symbol": "✘", "label": "excluded", "class": "v-excluded"},
    "error": {"symbol": "!", "label": "error", "class": "v-error"},
}
_CLASS = {"met": "o-met", "not_met": "o-not", "unknown": "o-unk", "true": "o-met", "false": "o-not"}
OUTCOMES = {k: {"symbol": OUTCOME_SYMBOL[k], "label": OUTCOME_LABEL[k], "class": c} for k, c in _CLASS.items()}

# Score chart geometry (SVG user units; the SVG scales to the page width).
CHART_WIDTH, LABEL_WIDTH, RIGHT_MARGIN = 860, 230, 70
ROW_HEIGHT, BAR_HEIGHT, TOP, BOTTOM, CUT_GAP = 30, 18, 34, 40, 22


def render_report(records: Mapping[int, dict], decision: Decision, program: dict, command: str,
                  generated: str) -> str:
    """The report page. `records` are record.evaluation_record dicts with trace, by the key of their
    decision entry (batch.collect_records gives both), `program` is plain program data
    (title, authority, path, sha256, threshold, quota, sources, criteria)."""
    env = Environment(loader=PackageLoader("eligibility", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["value"] = value
    env.filters["safe_url"] = safe_url
    env.globals.update(verdicts=VERDICTS, outcomes=OUTCOMES)
    return env.get_template("report.html.j2").render(**report_context(records, decision, program, command, generated))


def report_context(records: Mapping[int, dict], decision: Decision, program: dict, command: str,
                   generated: str) -> dict[str, Any]:
    """Everything the template shows, as plain data (also handy for tests)."""
    ordered = decision.ordered()
    evidence_sources = EvidenceSources()
    rows = [applicant_row(e, records[e.key], evidence_sources) for e in ordered]
    first = next(iter(records.values()), {})
    return {
        "program": program,
        "generated": generated,
        "command": command,
        "engine": first.get("engine", "durable"),
        "engine_version": engine_version(),
        "version": __version__,
        "as_of": first.get("as_of"),
        "parameters": first.get("parameters", {}),
        "decision": {"quota": decision.quota, "threshold": decision.threshold, "tie_breaks": decision.tie_breaks,
                     "counts": decision.counts},
        "criteria": program["criteria"],
        "rows": rows,
        "chart": score_chart(ordered, records, decision, program),
        "evidence_sources": evidence_sources.items,
        "numbers": _numbers(first),
        "effect_legend": EFFECT_LEGEND,
    }


def _numbers(rec: dict) -> str:
    """`points: calibration, not published; threshold: ...` from a record's basis detail."""
    line = score_line(dict(rec, score=0, score_max=0, threshold=0)) if rec else ""
    return line.partition("; ")[2]


def applicant_row(e: Entry, rec: dict, sources: "EvidenceSources") -> dict:
    trace = rec.get("trace") or {"criteria": [], "facts": {}}
    facts = []
    for name, f in trace["facts"].items():
        evidence = [dict(ev, ref=sources.ref(ev["source"], rec["applicant"]["name"], name)) for ev in f["evidence"]]
        later = [dict(ev, ref=sources.ref(ev["source"], rec["applicant"]["name"], name))
                 for ev in f.get("later_evidence", [])]
        facts.append({"name": name, **f, "evidence": evidence, "later_evidence": later})
    criteria = [dict(c, effects=effect_tree(c["tree"])) for c in trace["criteria"]]
    return {
        "basis": rec.get("basis"), "unofficial": rec.get("unofficial"),
        "basis_headline": basis_headline(rec) if "basis" in rec else "", "score_line": score_line(rec),
        "anchor": "applicant-" + e.id, "id": e.id, "name": e.name, "rank": e.rank, "verdict": e.final or e.verdict,
        "score": rec["score"], "score_max": rec["score_max"], "gates_failed": list(e.gates_failed),
        "reason": e.reason, "missing": rec.get("missing", []), "applicant": rec["applicant"],
        "criteria": rec["criteria"], "trace_criteria": criteria, "facts": facts,
        "overrides": rec.get("overrides", {}),
    }


class EvidenceSources:
    """Distinct evidence sources across all applicants, numbered E1, E2, ... in order of first use."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self._index: dict[tuple, dict] = {}

    def ref(self, source: dict, applicant: str, fact: str) -> str:
        key = tuple(source.get(k, "") for k in ("title", "publisher", "date", "url", "locator"))
        item = self._index.get(key)
        if item is None:
            item = {"ref": f"E{len(self.items) + 1}", "source": source, "cited_by": {}}
            self.items.append(item)
            self._index[key] = item
        facts = item["cited_by"].setdefault(applicant, [])
        if fact not in facts:
            facts.append(fact)
        return item["ref"]


def score_chart(ordered: list[Entry], records: list[dict], decision: Decision, program: dict) -> dict:
    """Bar geometry: one bar per applicant (decision order), the threshold line and the quota cut."""
    top_points = sum(c["points"] or 0 for c in program["criteria"] if c["kind"] == "scored")
    scale_max = max([top_points, decision.threshold] + [records[e.key]["score_max"] for e in ordered] + [1])
    plot = CHART_WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(value: float) -> float:
        return round(LABEL_WIDTH + plot * value / scale_max, 1)

    ranked = [e for e in ordered if e.rank is not None]
    cut, cut_at = None, None
    if decision.quota is not None and ranked:
        # a gap in the chart under the last selected applicant: at the quota, or under the last eligible one
        cut_at = min(decision.quota, len(ranked))
        label = (f"quota cut: {decision.quota} selected, {len(ranked) - decision.quota} eligible not selected"
                 if len(ranked) > decision.quota else f"quota of {decision.quota}: all {len(ranked)} eligible selected")
        cut = {"y": TOP + cut_at * ROW_HEIGHT + 3, "label": label}
    bars = []
    for i, e in enumerate(ordered):
        rec = records[e.key]
        y = TOP + i * ROW_HEIGHT + (CUT_GAP if cut_at is not None and i >= cut_at else 0)
        bars.append({"name": e.name, "verdict": e.final or e.verdict, "score": rec["score"],
                     "score_max": rec["score_max"], "y": y, "bar_y": y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                     "text_y": y + ROW_HEIGHT / 2 + 5, "x0": LABEL_WIDTH, "width": x(rec["score"]) - LABEL_WIDTH,
                     "x_max": x(rec["score"]), "width_max": x(rec["score_max"]) - x(rec["score"]),
                     "rank": e.rank})
    height = TOP + len(ordered) * ROW_HEIGHT + (CUT_GAP if cut else 0) + BOTTOM
    step = nice_step(scale_max)
    ticks = [{"value": v, "x": x(v)} for v in frange(0, scale_max, step)]
    return {"width": CHART_WIDTH, "height": height, "bars": bars, "ticks": ticks, "axis_y": height - BOTTOM + 4,
            "plot_top": TOP - 6, "plot_bottom": height - BOTTOM, "label_x": LABEL_WIDTH - 8,
            "threshold": {"x": x(decision.threshold), "value": decision.threshold}, "cut": cut,
            "x_left": LABEL_WIDTH, "x_right": CHART_WIDTH - RIGHT_MARGIN, "bar_height": BAR_HEIGHT}


def nice_step(span: float) -> float:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if span / step <= 10:
            return step
    return span / 10


def frange(start: float, stop: float, step: float) -> Iterable[float]:
    v = start
    while v <= stop + 1e-9:
        yield v
        v += step




def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript: or data: links from input files)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None
