"""evaluation.Assessor shares one Assessment between applicants with the same node outcomes and
known facts: every evaluation it gives must equal one computed afresh for that applicant alone."""
import glob
import os
import random

import pytest

from conftest import APPLICANTS, DATA, RULES
from eligibility import api
from eligibility.core.errors import Problems
from eligibility.evaluate.assess import Assessor
from eligibility.language.profile import applicant_from_data
from test_engine_differential import random_profile

FIELDS = ("criteria", "score", "score_max", "verdict", "reason", "missing", "gates_failed")


def bare_applicants(program, n, seed):
    """Random bare profiles drawn from a small pool, so that many applicants repeat a shape."""
    rng = random.Random(seed)
    pool = [random_profile(rng, program, missing=(k % 5) * 0.15) for k in range(60)]
    for i in range(n):
        values = dict(rng.choice(pool))
        if i % 7 == 0:                                  # and some one-off variations
            values.update(random_profile(rng, program, missing=0.9))
        facts = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        yield applicant_from_data({"id": f"a{i}", "facts": facts}, program, "pop.jsonl", "0" * 64,
                                  Problems("pop.jsonl"), require_evidence=False, line=i + 1)


def assert_same(shared, alone):
    for name in FIELDS:
        assert getattr(shared, name) == getattr(alone, name), name


@pytest.mark.parametrize("rules", [RULES, os.path.join(DATA, "all_ops.yaml")], ids=["sovereign-ai", "all-ops"])
@pytest.mark.parametrize("size", [4096, 8])
@pytest.mark.parametrize("engine", ["durable", "python"])
def test_shared_assessments_equal_fresh_ones(rules, size, engine):
    program = api.load_rules(rules)
    evaluator = api.Evaluator(program, engine)
    evaluator.assessor = Assessor(program, size=size)
    fresh = Assessor(program, size=0)
    verdicts = set()
    for applicant in bare_applicants(program, 3000, seed=size):
        ev = evaluator.evaluate(applicant, trace=False)
        outcomes = evaluator.outcomes(applicant.values())[0]      # this applicant's own, not the memo's
        assert ev.outcomes == outcomes
        alone = fresh.assess(applicant, (), lambda: outcomes, engine)
        assert_same(ev, alone)
        verdicts.add(ev.verdict)
    assert evaluator.assessor.hits > (1000 if size > 100 else 0)    # the memo was used, not bypassed
    assert fresh.hits == 0 and fresh.misses == 3000
    assert len(evaluator.assessor._memo) <= size
    assert verdicts >= {"excluded", "undetermined"}
    evaluator.close()


def test_reasons_name_each_applicants_own_evidence():
    """Profiles with evidence, overrides and dates share assessments but not reasons."""
    program = api.load_rules(RULES)
    evaluator = api.Evaluator(program)
    fresh = Assessor(program, size=0)
    paths = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    seen = 0
    for rounds in range(2):
        for k, path in enumerate(paths):
            applicant = api.load_profile(path, program)
            if (k + rounds) % 2:
                api.apply_overrides(applicant, program, {"foreign_partner_dependency": "heavy"})
            for as_of in (None, "2025-08-04", "2026-01-15"):
                ev = evaluator.evaluate(applicant, as_of, trace=False)
                outcomes = evaluator.outcomes(applicant.values(as_of))[0]
                assert ev.outcomes == outcomes
                alone = fresh.assess(applicant, (), lambda: outcomes, "durable", as_of)
                assert_same(ev, alone)
                seen += ev.verdict == "excluded" and "because" in ev.reason
    assert seen and evaluator.assessor.hits
    evaluator.close()


@pytest.mark.parametrize("engine", ["durable", "python", "both"])
def test_evaluating_a_group_equals_one_by_one(engine, monkeypatch):
    """Evaluator.evaluate_all runs the engine for a whole group first: every result is still the
    applicant's own, in order, and an engine failure on one applicant is that applicant's alone."""
    program = api.load_rules(RULES)
    grouped, single = api.Evaluator(program, engine), api.Evaluator(program, engine)
    applicants = list(bare_applicants(program, 400, seed=11))
    encode = grouped.compiled.encode
    doomed = {encode(applicants[k].values()) for k in (5, 6, 123)} if engine == "durable" else set()
    if doomed:
        from eligibility.engine.durable import DurableEngine
        from eligibility.core.errors import EngineError
        real = DurableEngine.run_all

        def flaky(self, profiles, keep_messages=True):
            profiles = list(profiles)
            results = real(self, profiles, keep_messages)
            if self is not grouped._engine:
                return results
            return [EngineError("stopped for the test") if docs in doomed else r for docs, r in zip(profiles, results)]
        monkeypatch.setattr(DurableEngine, "run_all", flaky)
    results = []
    for start in range(0, len(applicants), 32):
        results += grouped.evaluate_all(applicants[start:start + 32], trace=False)
    assert len(results) == len(applicants)
    failed = [k for k, a in enumerate(applicants) if encode(a.values()) in doomed]
    assert (len(failed) >= 3) == bool(doomed)
    for k, (applicant, result) in enumerate(zip(applicants, results)):
        if k in failed:
            assert str(result) == "stopped for the test"
            continue
        alone = single.evaluate(applicant, trace=False)
        assert result.applicant is applicant and result.outcomes == alone.outcomes
        assert_same(result, alone)


def test_a_shared_reason_keeps_1_and_1_0_of_a_float_fact_apart():
    """Two bare applicants whose float fact is 1 and 1.0 share the assessment (equal values, same
    outcomes) but each reason writes the value as given; an int fact's reasons need no types."""
    from eligibility.language.rules import load_program
    text = """
program: {id: t, title: t, sources: [{id: s, title: s}]}
facts:
  x: {type: float}
  n: {type: int}
criteria:
  - {id: g, kind: gate, condition: 'x != 1 and n != 2', source: {ref: s, clause: c}}
decision: {threshold: 0}
"""
    program = load_program("t.yaml", text=text)
    evaluator = api.Evaluator(program)

    def reason(facts, i):
        applicant = applicant_from_data({"id": f"a{i}", "facts": facts}, program, "p.jsonl", "0" * 64,
                                        Problems("p.jsonl"), require_evidence=False, line=i)
        return evaluator.evaluate(applicant, trace=False)
    one, one_point_zero, again = reason({"x": 1, "n": 1}, 1), reason({"x": 1.0, "n": 1}, 2), reason({"x": 1, "n": 1}, 3)
    assert one.assessment is one_point_zero.assessment is again.assessment
    assert "x is 1 " in one.reason + " " and "x is 1.0" in one_point_zero.reason and again.reason == one.reason
    assert one.assessment.typed_values
    int_only = reason({"x": 3, "n": 2}, 4)
    assert not int_only.assessment.typed_values and "n is 2" in int_only.reason
    evaluator.close()
