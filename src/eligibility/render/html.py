"""The self-contained HTML report: evaluation records and the decision in, one HTML document out.

Jinja2 with autoescape on builds the page from templates/report.html.j2; every string that comes from
an input file is escaped. The page has inline CSS and inline SVG, no scripts and nothing to fetch.
Outcomes are shown as colour *and* symbol, so the page reads in black and white and for colour-blind
readers."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from eligibility import __version__
from eligibility.program.decision import Decision, Entry
from eligibility.records.record import engine_version
from eligibility.render.explain import EFFECT_LEGEND, basis_headline, effect_tree, score_line
from eligibility.core.formatting import OUTCOME_LABEL, OUTCOME_SYMBOL, number, up_to, value

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


class Records:
    """What the report reads of each applicant's record, by the key of its decision entry: the whole
    record (for its trace) and the little the tables and the chart need. This one holds records in
    memory; RecordSpool (report_spool.py) keeps them in a temporary file."""

    def __init__(self, records: Mapping[int, dict]):
        self._records = records

    def record(self, key: int) -> dict:
        return self._records[key]

    def brief(self, key: int) -> tuple:
        """What the decision table shows of a record beyond its entry (see `brief_of`)."""
        return brief_of(self._records[key])

    def first(self) -> dict:
        return next(iter(self._records.values()), {})

    def __len__(self) -> int:
        return len(self._records)


def brief_of(rec: dict) -> tuple:
    """(score_max, criteria as (id, kind, outcome, awarded), basis, unofficial, basis headline)."""
    return (rec["score_max"], tuple((c["id"], c["kind"], c["outcome"], c.get("awarded")) for c in rec["criteria"]),
            rec.get("basis"), rec.get("unofficial"), basis_headline(rec) if "basis" in rec else "")


def render_report(records: Mapping[int, dict], decision: Decision, program: dict, command: str,
                  generated: str) -> str:
    """The report page. `records` are record.evaluation_record dicts with trace, by the key of their
    decision entry (batch.collect_records gives both), `program` is plain program data
    (title, authority, path, sha256, threshold, quota, sources, criteria)."""
    return "".join(stream_report(Records(records), decision, program, command, generated))


def stream_report(records: Any, decision: Decision, program: dict, command: str, generated: str) -> Iterator[str]:
    """The report page in pieces, as it is made: with a RecordSpool, memory stays flat however many
    applicants there are (each trace is read back, rendered and let go in turn)."""
    env = Environment(loader=PackageLoader("eligibility", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["up_to"] = up_to
    env.filters["value"] = value
    env.filters["safe_url"] = safe_url
    env.globals.update(verdicts=VERDICTS, outcomes=OUTCOMES)
    return env.get_template("report.html.j2").generate(**report_context(records, decision, program, command, generated))


def report_context(records: Any, decision: Decision, program: dict, command: str,
                   generated: str) -> dict[str, Any]:
    """Everything the template shows: plain data, and the per-applicant parts as sequences that
    are made as they are read (`rows` for the tables, `traces`, the chart's bars)."""
    ordered = decision.ordered()
    evidence_sources = EvidenceSources()
    first = records.first()
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
                     "rank_by": bool(decision.rank_by), "policy": decision.policy_words(), "counts": decision.counts},
        "criteria": program["criteria"],
        "rows": Lazy(ordered, lambda e: table_row(e, records.brief(e.key))),
        "traces": Lazy(ordered, lambda e: applicant_row(e, records.record(e.key), evidence_sources)),
        "chart": score_chart(ordered, records, decision, program),
        "evidence_sources": evidence_sources.items,
        "numbers": _numbers(first),
        "effect_legend": EFFECT_LEGEND,
    }


class Lazy:
    """A sequence made item by item each time it is iterated (nothing kept)."""

    def __init__(self, items: list, make: Callable[[Any], Any]):
        self._items, self._make = items, make

    def __iter__(self) -> Iterator[Any]:
        return map(self._make, self._items)

    def __len__(self) -> int:
        return len(self._items)


def table_row(e: Entry, brief: tuple) -> dict:
    """What the decision table and the criteria matrix show of one applicant."""
    score_max, criteria, basis, unofficial, headline = brief
    return {"basis": basis, "unofficial": unofficial, "basis_headline": headline,
            "anchor": "applicant-" + e.id, "id": e.id, "name": e.name, "rank": e.rank, "verdict": e.final or e.verdict,
            "score": e.score, "score_max": score_max, "gates_failed": list(e.gates_failed), "reason": e.reason,
            "criteria": [{"id": i, "kind": k, "outcome": o, "awarded": a} for i, k, o, a in criteria]}


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


CITED_SHOWN = 100           # applicants named under one evidence source; the others are counted


class EvidenceSources:
    """Distinct evidence sources across all applicants, numbered E1, E2, ... in order of first use."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self._index: dict[tuple, dict] = {}

    def ref(self, source: dict, applicant: str, fact: str) -> str:
        key = tuple(source.get(k, "") for k in ("title", "publisher", "date", "url", "locator"))
        item = self._index.get(key)
        if item is None:
            item = {"ref": f"E{len(self.items) + 1}", "source": source, "cited_by": {}, "more": 0, "last": None}
            self.items.append(item)
            self._index[key] = item
        cited = item["cited_by"]
        if applicant not in cited and len(cited) >= CITED_SHOWN:
            if item["last"] != applicant:        # one applicant's facts come one after another
                item["more"] += 1
                item["last"] = applicant
            return item["ref"]
        facts = cited.setdefault(applicant, [])
        if fact not in facts:
            facts.append(fact)
        return item["ref"]


def score_chart(ordered: list[Entry], records: Any, decision: Decision, program: dict) -> dict:
    """Bar geometry: one bar per applicant (decision order), the threshold line and the quota cut.
    The bars are made as the page is written (see Lazy)."""
    top_points = sum(c["points"] or 0 for c in program["criteria"] if c["kind"] == "scored")
    scale_max = max([top_points, decision.threshold, 1, *(records.brief(e.key)[0] or 0 for e in ordered)])
    plot = CHART_WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(value: float) -> float:
        return round(LABEL_WIDTH + plot * value / scale_max, 1)

    ranked = sum(1 for e in ordered if e.rank is not None)
    cut, cut_at = None, None
    if decision.quota is not None and ranked:
        # a gap in the chart under the last selected applicant: at the quota, or under the last eligible one
        cut_at = min(decision.quota, ranked)
        label = (f"quota cut: {decision.quota} selected, {ranked - decision.quota} eligible not selected"
                 if ranked > decision.quota else f"quota of {decision.quota}: all {ranked} eligible selected")
        cut = {"y": TOP + cut_at * ROW_HEIGHT + 3, "label": label}

    def bar(item: tuple[int, Entry]) -> dict:
        i, e = item
        score, score_max = e.score, records.brief(e.key)[0]
        reach = score if score_max is None else score_max      # unbounded: no bar beyond the score
        y = TOP + i * ROW_HEIGHT + (CUT_GAP if cut_at is not None and i >= cut_at else 0)
        return {"name": e.name, "verdict": e.final or e.verdict, "score": score,
                "score_max": score_max, "y": y, "bar_y": y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                "text_y": y + ROW_HEIGHT / 2 + 5, "x0": LABEL_WIDTH, "width": x(score) - LABEL_WIDTH,
                "x_max": x(score), "width_max": x(reach) - x(score), "rank": e.rank}

    height = TOP + len(ordered) * ROW_HEIGHT + (CUT_GAP if cut else 0) + BOTTOM
    step = nice_step(scale_max)
    ticks = [{"value": v, "x": x(v)} for v in frange(0, scale_max, step)]
    return {"width": CHART_WIDTH, "height": height, "bars": Lazy(list(enumerate(ordered)), bar), "ticks": ticks,
            "axis_y": height - BOTTOM + 4,
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
