"""Differential tests: the durable-rules path, the direct Python evaluation (reference) and the
`--engine python` closures (closures.CompiledNodes) must agree on every node (criteria, concepts
and every sub-condition), unknown facts included."""
import datetime as dt
import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility.api import Evaluator
from eligibility.engine.python import CompiledNodes
from eligibility.language.semantics import evaluate_nodes
from eligibility.language.expr import IsTest
from eligibility.language.numeric import NONE
from eligibility.language.rules import load_program

from helpers import DATA, RULES, domain, random_profile

ALL_OPS = os.path.join(DATA, "all_ops.yaml")
ALL_ARITH = os.path.join(DATA, "all_arith.yaml")
N_RANDOM = int(os.environ.get("ELIGIBILITY_DIFF_N", "20000"))


def assert_agree(evaluator, values):
    durable = evaluator.run(values).outcomes()
    python = evaluate_nodes(evaluator.program, values)
    assert durable == python, {n: (durable.get(n), python[n]) for n in python if durable.get(n) != python[n]}
    closures = evaluator.closures.evaluate(values)
    assert closures == python, {n: (closures.get(n), python[n]) for n in python if closures.get(n) != python[n]}


@pytest.fixture(scope="module", params=[RULES, ALL_OPS, ALL_ARITH], ids=["sovereign-ai", "all-ops", "all-arith"])
def evaluator(request):
    ev = Evaluator(load_program(request.param))
    ev.closures = CompiledNodes(ev.program)
    yield ev
    ev.close()


@pytest.mark.slow
def test_random_profiles_agree(evaluator):
    """Seeded random profiles (20,000 per program by default), 0-80 % of facts missing."""
    rng = random.Random(20250804)
    outcomes_seen = set()
    for i in range(N_RANDOM):
        values = random_profile(rng, evaluator.program, missing=(i % 5) * 0.2)
        durable = evaluator.run(values).outcomes()
        python = evaluate_nodes(evaluator.program, values)
        assert durable == python, (values, {n: (durable.get(n), python[n]) for n in python if durable.get(n) != python[n]})
        assert evaluator.closures.evaluate(values) == python, values
        outcomes_seen.update((n, v) for n, v in python.items())
    # the population exercised every node as true, false and unknown (`is known` is never unknown)
    never_unknown = {n.id for c in [*evaluator.program.concepts.values(), *evaluator.program.criteria]
                     for n in c.condition.walk() if isinstance(n, IsTest) and n.test == "known"}
    for node in evaluator.compiled.pairs:
        expected = {(node, True), (node, False)} | (set() if node in never_unknown else {(node, None)})
        assert expected <= outcomes_seen, node


@st.composite
def profiles(draw, program):
    out = {}
    for name, spec in program.facts.items():
        if draw(st.booleans()):
            out[name] = draw(st.sampled_from(domain(spec, program)))
    return out


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hypothesis_profiles_agree(evaluator, data):
    assert_agree(evaluator, data.draw(profiles(evaluator.program)))


def test_engine_survives_many_applicants_and_empty_profiles(evaluator):
    """No live-state leak (the engine allows 1,024 live states): 3,000 runs, most with no match."""
    for i in range(3000):
        values = {} if i % 2 else {"b": True} if "b" in evaluator.program.facts else {}
        assert_agree(evaluator, values)


def test_dated_parameter_values_reach_both_engines():
    """A dated parameter is compiled with the value in force on the date: durable, the closures and
    the reference agree on every date, and a mark between two dated pass marks flips with the date."""
    from eligibility.api import load_rules
    rng = random.Random(20260115)
    seen = {}
    for as_of in ("2025-03-01", "2026-02-01"):
        ev = Evaluator(load_rules(os.path.join(DATA, "dated_params.yaml"), as_of=as_of))
        ev.closures = CompiledNodes(ev.program)
        try:
            for i in range(500):
                assert_agree(ev, random_profile(rng, ev.program, missing=(i % 3) * 0.3))
            gate = ev.program.criterion("pass").condition.id
            seen[as_of] = ev.run({"mark": 55}).outcomes()[gate]
        finally:
            ev.close()
    assert seen == {"2025-03-01": True, "2026-02-01": False}


POINTS = os.path.join(DATA, "points.yaml")


@pytest.mark.parametrize("rules", [POINTS, os.path.join(DATA, "..", "..", "examples", "innovation-voucher", "rules.yaml")],
                         ids=["points", "innovation-voucher"])
def test_assessments_with_computed_points_agree(rules):
    """Points written as expressions: the engines decide the criteria, the shared evaluator
    computes the points (docs/engine.md); durable, python and the reference (node outcomes by
    semantics) must give the same criteria, points, score, "up to" score and verdict."""
    from eligibility.evaluate.assess import assess
    from eligibility.evaluate.points import criterion_points
    from eligibility.language.model import Applicant, FactValue
    program = load_program(rules)
    engines = [Evaluator(program, name) for name in ("durable", "python", "both")]
    rng = random.Random(1515)
    verdicts, unbounded = set(), 0
    for i in range(min(N_RANDOM, 4000)):
        values = random_profile(rng, program, missing=(i % 5) * 0.15)
        for name, spec in program.facts.items():       # keep in range: out-of-range values are refused at input
            if spec.range and name in values and not spec.range[0] <= values[name] <= spec.range[1]:
                values[name] = spec.range[i % 2]
        applicant = Applicant("r.yaml", "", "r", "R", history={k: (FactValue(v, ()),) for k, v in values.items()})
        reference = assess(program, evaluate_nodes(program, values), criterion_points(program, values))
        expected = (reference.verdict, reference.score, reference.score_max,
                    [(r.outcome, r.awarded, r.points, r.missing) for r in reference.criteria])
        for engine in engines:
            ev = engine.evaluate(applicant, trace=False)
            assert (ev.verdict, ev.score, ev.score_max,
                    [(r.outcome, r.awarded, r.points, r.missing) for r in ev.criteria]) == expected, values
        verdicts.add(reference.verdict)
        unbounded += reference.score_max == float("inf")
    assert verdicts == {"selected", "excluded", "undetermined"}
    assert unbounded > 0 or rules != POINTS
    for engine in engines:
        engine.close()


def test_assessments_with_a_published_decision_agree():
    """The shipped August rules end with a published criterion (the ministry's decision): durable,
    python and both give the reference's verdict, reason and missing facts, over every
    combination of the decision (met, not met, unknown) and the other criteria's verdict."""
    from eligibility.evaluate.assess import assess, explain
    from eligibility.language.model import Applicant, FactValue
    program = load_program(RULES)
    (published,) = [c for c in program.criteria if c.kind == "published"]
    engines = [Evaluator(program, name) for name in ("durable", "python", "both")]
    rng = random.Random(416)
    seen = set()
    for i in range(min(N_RANDOM, 3000)):
        values = random_profile(rng, program, missing=(i % 5) * 0.2)
        applicant = Applicant("r.yaml", "", "r", "R", history={k: (FactValue(v, ()),) for k, v in values.items()})
        reference = assess(program, evaluate_nodes(program, values))
        expected = (reference.verdict, explain(reference, applicant, None), reference.missing,
                    [r.outcome for r in reference.criteria])
        for engine in engines:
            ev = engine.evaluate(applicant, trace=False)
            assert (ev.verdict, ev.reason, ev.missing, [r.outcome for r in ev.criteria]) == expected, values
        decision = {r.id: r.outcome for r in reference.criteria}[published.id]
        seen.add((decision, reference.criteria_verdict or reference.verdict))
    assert seen == {(p, v) for p in ("met", "not_met", "unknown") for v in ("selected", "excluded", "undetermined")}
    for engine in engines:
        engine.close()
