"""Scored criteria whose points are an expression: the score sums the computed points; with
unknown inputs the "up to" score comes from the declared ranges and decides excluded vs
undetermined; without a declared range it is unbounded, and the output says so."""
import json

import pytest

from eligibility.api import Evaluator
from eligibility.language.model import Applicant, FactValue
from eligibility.language.rules import load_program

RULES = """\
program:
  id: pts
  title: Points
  sources: [{id: s, title: s}]
facts:
  mark: {type: int, range: [0, 10]}
  bonus: {type: int}
  ok: {type: bool}
criteria:
  - id: gate
    kind: gate
    condition: ok
    source: {ref: s, clause: x}
  - id: marked
    kind: scored
    points: 3 * mark
    condition: mark >= 1
    source: {ref: s, clause: x}
  - id: extra
    kind: scored
    points: max(0, bonus)
    condition: ok
    source: {ref: s, clause: x}
decision: {threshold: THRESHOLD}
"""


def evaluate(threshold, engine="both", **facts):
    program = load_program("pts.yaml", text=RULES.replace("THRESHOLD", str(threshold)))
    applicant = Applicant("a.yaml", "", "a", "A", history={k: (FactValue(v, ()),) for k, v in facts.items()})
    evaluator = Evaluator(program, engine)
    try:
        return evaluator.evaluate(applicant)
    finally:
        evaluator.close()


@pytest.mark.parametrize("engine", ["durable", "python", "both"])
def test_the_score_sums_the_computed_points(engine):
    ev = evaluate(20, engine, mark=6, bonus=5, ok=True)
    assert (ev.verdict, ev.score, ev.score_max) == ("selected", 23, 23)
    assert [(r.id, r.awarded, r.points) for r in ev.criteria if r.kind == "scored"] == [("marked", 18, 18), ("extra", 5, 5)]


def test_unknown_inputs_use_the_declared_range_for_the_up_to_score():
    # mark unknown: `marked` is unknown, worth up to 3 x 10 = 30; with the bonus of 5, at most 35
    excluded = evaluate(36, bonus=5, ok=True)
    assert (excluded.verdict, excluded.score, excluded.score_max) == ("excluded", 5, 35)
    assert "even if every unknown criterion were met (35)" in excluded.reason
    open_ = evaluate(35, bonus=5, ok=True)
    assert (open_.verdict, open_.missing) == ("undetermined", ("mark",))
    assert "score is 5 to 35 against a threshold of 35" in open_.reason


def test_a_met_criterion_with_an_unknown_input_awards_its_lowest_points():
    """`extra` is met (ok) but its bonus is unknown and has no declared range: it awards 0 for
    sure, its maximum is unbounded, so the applicant cannot be excluded on score."""
    ev = evaluate(1000, mark=2, ok=True)
    assert (ev.verdict, ev.score, ev.score_max, ev.missing) == ("undetermined", 6, float("inf"), ("bonus",))
    (extra,) = [r for r in ev.criteria if r.id == "extra"]
    assert (extra.outcome, extra.awarded, extra.missing) == ("met", 0, ("bonus",))
    assert "score is 6 to unbounded (an unknown input of the points has no declared range)" in ev.reason


def test_unbounded_maximum_in_the_record_and_the_text(tmp_path, run_cli):
    rules = tmp_path / "pts.yaml"
    rules.write_text(RULES.replace("THRESHOLD", "1000"), encoding="utf-8")
    profile = tmp_path / "a.yaml"
    profile.write_text("id: a\nname: A\nfacts:\n  mark: {value: 2, evidence: [{source: {title: t, date: 2026-01-01},"
                       " kind: official, note: n}]}\n  ok: {value: true, evidence: [{source: {title: t, date: 2026-01-01},"
                       " kind: official, note: n}]}\n  bonus: {value: unknown, evidence: [{source: {title: t, date: 2026-01-01},"
                       " kind: official, note: not marked yet}]}\n", encoding="utf-8")
    r = run_cli("check", str(profile), "--rules", str(rules), "-f", "json")
    rec = json.loads(r.stdout)
    extra = next(c for c in rec["criteria"] if c["id"] == "extra")
    assert (rec["verdict"], rec["score"], rec["score_max"], extra["points"], extra["awarded"]) == \
           ("undetermined", 6, None, None, 0)
    traced = next(c for c in rec["trace"]["criteria"] if c["id"] == "extra")
    assert traced["points_worked"] == "max(0, ?) = unknown; no upper bound: bonus has no declared range"
    text = run_cli("check", str(profile), "--rules", str(rules)).stdout
    assert "no upper bound if unknowns are met: an unknown input of the points has no declared range" in text


def test_batch_keeps_the_points_of_applicants_with_equal_outcomes_apart(tmp_path, run_cli):
    """Equal engine outcomes, different marks: the memo must not share one applicant's points with another."""
    rules = tmp_path / "pts.yaml"
    rules.write_text(RULES.replace("THRESHOLD", "0"), encoding="utf-8")
    rows = [{"id": f"a{i}", "name": f"A {i}", "facts": {"mark": i % 10 + 1, "bonus": 1, "ok": True}} for i in range(30)]
    population = tmp_path / "pop.jsonl"
    population.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    r = run_cli("batch", str(population), "--rules", str(rules), "-f", "jsonl")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.splitlines()]
    scores = {rec["applicant"]["id"]: rec["score"] for rec in records if "applicant" in rec}
    assert scores == {f"a{i}": 3 * (i % 10 + 1) + 1 for i in range(30)}
