"""CSV for one evaluation (`check`) and for a rule or date comparison (`diff`)."""
from __future__ import annotations

import csv
import io

from eligibility.core.formatting import number


def _text(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def check_csv(rec: dict) -> str:
    """One row per criterion, each with the applicant's verdict and its basis repeated (filterable)."""
    a = rec["applicant"]
    trace = {c["id"]: c for c in (rec.get("trace") or {}).get("criteria", [])}
    detail = rec.get("basis_detail") or {}
    rows = [["id", "name", "verdict", "basis", "unofficial", "score", "threshold", "points_basis",
             "threshold_basis", "criterion", "kind", "criterion_basis", "outcome", "points", "awarded", "because"]]
    for c in rec["criteria"]:
        rows.append([a["id"], a["name"], rec["verdict"], rec.get("basis", ""),
                     "yes" if rec.get("unofficial") else "no", number(rec["score"]), number(rec["threshold"]),
                     detail.get("points") or "", detail.get("threshold") or "", c["id"], c["kind"],
                     (c.get("basis") or {}).get("kind", ""), c["outcome"], number(c["points"]), number(c["awarded"]),
                     "; ".join(trace.get(c["id"], {}).get("because", []))])
    return _text(rows)


def diff_csv(report: dict) -> str:
    """One row per applicant: old and new verdict, score and rank, status and causes."""
    rows = [["id", "name", "status", "old_verdict", "new_verdict", "old_score", "new_score", "old_rank",
             "new_rank", "causes", "path"]]
    for a in report["applicants"]:
        old, new = a["old"], a["new"]
        rows.append([a["id"], a["name"], a["status"], old["verdict"], new["verdict"], number(old["score"]),
                     number(new["score"]), old["rank"] if old["rank"] is not None else "",
                     new["rank"] if new["rank"] is not None else "", "; ".join(a["causes"]), a["path"]])
    return _text(rows)
