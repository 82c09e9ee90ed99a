"""A batch's Memo shares assessments, reasons and record text between applicants with the same
node outcomes: every evaluation made with it must equal the one made without it."""
import glob
import os
import random

import pytest

from eligibility import api
from eligibility.core.errors import EngineError, Problems
from eligibility.evaluate.assess import assess, explain
from eligibility.evaluate.memo import Memo
from eligibility.evaluate.points import criterion_points
from eligibility.language.profile import applicant_from_data
from eligibility.language.rules import load_program
from eligibility.records.record import RecordEncoder, RecordOptions, compact_json, record
from helpers import APPLICANTS, DATA, RULES, random_profile

FIELDS = ("criteria", "score", "score_max", "verdict", "reason", "missing", "gates_failed", "outcomes", "standing")


def bare_applicants(program, n, seed):
    """Random bare profiles drawn from a small pool, so that many applicants repeat a shape."""
    rng = random.Random(seed)
    pool = [random_profile(rng, program, missing=(k % 5) * 0.15) for k in range(60)]
    for i in range(n):
        values = dict(rng.choice(pool))
        if i % 7 == 0:                                  # and some one-off variations
            values.update(random_profile(rng, program, missing=0.9))
        if i % 3 == 0:                                  # a float fact's whole number as 2 or 2.0, 0.0 or -0.0
            values = {k: retyped(v) if program.facts[k].type == "float" else v for k, v in values.items()}
        facts = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        yield applicant_from_data({"id": f"a{i}", "facts": facts}, program, "pop.jsonl", "0" * 64,
                                  Problems("pop.jsonl"), require_evidence=False, line=i + 1)


def retyped(value):
    """The same number written the other way: 2 <-> 2.0, 0.0 <-> -0.0."""
    if isinstance(value, float) and value == 0:
        return -value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def assert_same(shared, alone):
    for name in FIELDS:
        assert getattr(shared, name) == getattr(alone, name), name


@pytest.mark.parametrize("rules", [RULES, os.path.join(DATA, "all_ops.yaml"), os.path.join(DATA, "points.yaml")],
                         ids=["sovereign-ai", "all-ops", "points"])
@pytest.mark.parametrize("limit", [4096, 8])
@pytest.mark.parametrize("engine", ["durable", "python"])
def test_evaluations_with_the_memo_equal_those_without(rules, limit, engine):
    program = api.load_rules(rules)
    evaluator = api.Evaluator(program, engine)
    memo = Memo(limit)
    encoder = RecordEncoder(RecordOptions(), memo)
    applicants = list(bare_applicants(program, 3000, seed=limit))
    shared = []
    for start in range(0, len(applicants), 32):
        shared += evaluator.evaluate_all(applicants[start:start + 32], trace=False, memo=memo)
    verdicts = set()
    for applicant, ev in zip(applicants, shared):
        alone = evaluator.evaluate(applicant, trace=False)
        assert ev.applicant is applicant
        assert_same(ev, alone)
        # equal is not enough: 1 and 1.0, 0.0 and -0.0 are equal numbers written differently
        assert encoder.line(ev) == compact_json(record(alone))
        # and both are what assess() and explain() give for this applicant's own outcomes
        outcomes = evaluator.run(applicant.values()).outcomes()
        fresh = assess(program, outcomes, criterion_points(program, applicant.values()))
        assert ev.outcomes == outcomes and ev.verdict == fresh.verdict
        assert ev.reason == explain(fresh, applicant, None)
        verdicts.add(ev.verdict)
    assert memo.hits > (1000 if limit > 100 else 0)           # the memo was used, not bypassed
    assert memo.size <= limit
    assert verdicts >= {"excluded", "undetermined"}
    evaluator.close()


def test_reasons_name_each_applicants_own_evidence():
    """Profiles with evidence, overrides and dates share assessments but not reasons."""
    program = api.load_rules(RULES)
    evaluator = api.Evaluator(program)
    memo = Memo()
    paths = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    seen = 0
    for rounds in range(2):
        for k, path in enumerate(paths):
            applicant = api.load_profile(path, program)
            if (k + rounds) % 2:
                api.apply_overrides(applicant, program, {"foreign_partner_dependency": "heavy"})
            for as_of in (None, "2025-08-04", "2026-01-15"):
                (ev,) = evaluator.evaluate_all([applicant], as_of, trace=False, memo=memo)
                assert_same(ev, evaluator.evaluate(applicant, as_of, trace=False))
                seen += ev.verdict == "excluded" and "because" in ev.reason
    assert seen and memo.hits
    evaluator.close()


@pytest.mark.parametrize("engine", ["durable", "python", "both"])
def test_evaluating_a_group_equals_one_by_one(engine, monkeypatch):
    """Evaluator.evaluate_all runs the engine for a whole group first: every result is still the
    applicant's own, in order, and an engine failure on one applicant is that applicant's alone."""
    program = api.load_rules(RULES)
    grouped, single = api.Evaluator(program, engine), api.Evaluator(program, engine)
    applicants = list(bare_applicants(program, 400, seed=11))
    doomed = [applicants[k].values() for k in (5, 6, 123)] if engine == "durable" else []
    if doomed:
        from eligibility.engine.durable import DurableEngine
        real = DurableEngine.run_all

        def flaky(self, values, trace=False):
            results = real(self, values, trace)
            return [EngineError("stopped for the test") if v in doomed else r for v, r in zip(values, results)]
        monkeypatch.setattr(DurableEngine, "run_all", flaky)
    results = []
    for start in range(0, len(applicants), 32):
        results += grouped.evaluate_all(applicants[start:start + 32], trace=False)
    assert len(results) == len(applicants)
    failed = [k for k, a in enumerate(applicants) if a.values() in doomed]
    assert (len(failed) >= 3) == bool(doomed)
    if doomed:
        monkeypatch.undo()
    for k, (applicant, result) in enumerate(zip(applicants, results)):
        if k in failed:
            assert str(result) == "stopped for the test"
            continue
        alone = single.evaluate(applicant, trace=False)
        assert result.applicant is applicant and result.outcomes == alone.outcomes
        assert_same(result, alone)


def test_a_shared_reason_keeps_1_1_0_and_minus_0_0_of_a_float_fact_apart():
    """Two bare applicants whose float fact is 1 and 1.0 (or 0.0 and -0.0) share the assessment
    (equal values, same outcomes) but each reason writes the value as given."""
    text = """
program: {id: t, title: t, sources: [{id: s, title: s}]}
facts:
  x: {type: float}
  n: {type: int}
criteria:
  - {id: g, kind: gate, condition: 'x != 1 and x != 0 and n != 2', source: {ref: s, clause: c}}
decision: {threshold: 0}
"""
    program = load_program("t.yaml", text=text)
    evaluator = api.Evaluator(program)
    memo = Memo()

    def evaluated(facts, i):
        applicant = applicant_from_data({"id": f"a{i}", "facts": facts}, program, "p.jsonl", "0" * 64,
                                        Problems("p.jsonl"), require_evidence=False, line=i)
        (ev,) = evaluator.evaluate_all([applicant], trace=False, memo=memo)
        return ev
    one, one_point_zero, again = evaluated({"x": 1, "n": 1}, 1), evaluated({"x": 1.0, "n": 1}, 2), evaluated({"x": 1, "n": 1}, 3)
    assert one.assessment is one_point_zero.assessment is again.assessment
    assert "x is 1 " in one.reason + " " and "x is 1.0" in one_point_zero.reason and again.reason == one.reason
    assert "n is 2" in evaluated({"x": 3, "n": 2}, 4).reason
    zero, minus_zero = evaluated({"x": 0.0, "n": 1}, 5), evaluated({"x": -0.0, "n": 1}, 6)
    assert zero.assessment is minus_zero.assessment
    assert "x is 0.0" in zero.reason and "x is -0.0" in minus_zero.reason
    evaluator.close()


def test_computed_points_of_7_and_7_0_keep_their_own_text():
    """Points computed from a float fact given as 7 and as 7.0 are equal numbers written differently:
    each applicant's record must be the one it has when evaluated alone, in either order."""
    text = """
program: {id: t, title: t, sources: [{id: s, title: s}]}
facts:
  x: {type: float, range: [0, 100]}
criteria:
  - {id: c, kind: scored, condition: 'x >= 0', points: 'x', source: {ref: s, clause: c}}
decision: {threshold: 0}
"""
    program = load_program("t.yaml", text=text)
    for engine in ("python", "durable"):
        evaluator = api.Evaluator(program, engine)
        for order in ([7, 7.0], [7.0, 7]):
            memo = Memo()
            encoder = RecordEncoder(RecordOptions(), memo)
            for i, x in enumerate(order):
                applicant = applicant_from_data({"id": f"a{i}", "facts": {"x": x}}, program, "p.jsonl", "0" * 64,
                                                Problems("p.jsonl"), require_evidence=False, line=i + 1)
                (shared,) = evaluator.evaluate_all([applicant], trace=False, memo=memo)
                alone = evaluator.evaluate(applicant, trace=False)
                assert encoder.line(shared) == compact_json(record(alone)), (engine, order, x)
                assert f'"points":{x!r},"awarded":{x!r}' in encoder.line(shared)
        evaluator.close()


def test_a_full_memo_drops_its_oldest_entry():
    memo = Memo(limit=3)
    made = []
    for key in [1, 2, 3, 1, 4, 1, 2]:
        memo.get("t", key, lambda k=key: made.append(k) or k * 10)
    # 1, 2, 3 made; 1 found; 4 made in place of 1 (the oldest); 1 made again in place of 2; 2 made again
    assert made == [1, 2, 3, 4, 1, 2] and memo.size == 3 and memo.hits == 1
    assert memo.get("t", 4, lambda: 0) == 40 and memo.hits == 2


def test_a_memo_for_many_criteria_keeps_fewer_entries():
    """An entry's size grows with the criteria (one result and one record text per criterion), so a
    batch's memo keeps MEMO_CRITERIA criterion results per table, within [16, MEMO_LIMIT] entries."""
    from eligibility.evaluate.memo import MEMO_CRITERIA, MEMO_LIMIT
    assert Memo.for_criteria(7).limit == MEMO_LIMIT
    assert Memo.for_criteria(1000).limit == MEMO_CRITERIA // 1000 < MEMO_LIMIT
    assert Memo.for_criteria(10 ** 7).limit == 16
    memo = Memo.for_criteria(1000)
    for k in range(3 * memo.limit):
        assert memo.get("t", k, str, k) == str(k)
        assert memo.size <= memo.limit
    # single criterion results (the record's criterion texts) are small: that table keeps MEMO_LIMIT
    from eligibility.evaluate.memo import PER_CRITERION
    for k in range(2000):
        memo.get(PER_CRITERION, k, str, k)
    assert len(memo.tables[PER_CRITERION]) == 2000 > memo.limit
