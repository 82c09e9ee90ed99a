"""Engine guard: rulesets past the engine's limits are refused before they reach it, runaway
firing stops with EngineError, and one applicant's engine failure does not affect the next."""
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

from eligibility.engine import compiler
from eligibility.api import Evaluator
from eligibility.engine.durable import DurableEngine
from eligibility.core.errors import EngineError, InputError
from eligibility.language.semantics import evaluate_nodes
from eligibility.language.rules import load_program

from helpers import DATA, ROOT, deadline, engine_agrees, rules_text


def refused(text):
    with deadline(), pytest.raises(InputError) as info:
        Evaluator(load_program("big.yaml", text=text), engine="durable").close()
    (problem,) = info.value.problems
    return problem


def agrees(program, profiles):
    engine_agrees(program, profiles)
    return compiler.compile_program(program)


def test_many_tests_are_sharded_across_profile_facts_and_agree():
    """Past 60 tests per engine fact (error 303 at 64), the profile is asserted as several shard facts."""
    program = load_program("big.yaml", text=rules_text(150, [f"f{i} > 0" for i in range(150)]))
    rng = random.Random(7)
    every = {f"f{i}": 1 for i in range(150)}               # all 150 tests match at once
    profiles = [every, {}] + [{f"f{i}": rng.randrange(-1, 2) for i in range(150) if rng.random() < 0.8}
                              for _ in range(100)]
    compiled = agrees(program, profiles)
    docs = compiled.encode(every)
    assert len(docs) >= 3 and all(len(json.loads(d)) <= compiler.MAX_MATCHING_TESTS + 1 for d in docs)


def test_wide_lists_of_values_are_sharded_before_the_engine_could_hang():
    values = lambda k: "[" + ", ".join(f'"v{k}_{j}"' for j in range(200)) + "]"
    program = load_program("big.yaml", text=rules_text(3, [f"f{k} in {values(k)}" for k in range(3)], fact_type="string"))
    profiles = [{f"f{k}": f"v{k}_{j}" for k in range(3)} for j in (0, 57, 199)] + [{"f0": "nope"}, {}]
    compiled = agrees(program, profiles)
    assert len(compiled.encode({"f0": "a", "f1": "b", "f2": "c"})) >= 2


def test_one_test_feeding_too_many_rules_is_refused(monkeypatch):
    """No valid rules file reaches this limit (shards hold at most 60 leaves, a leaf tests a value
    once, derived facts are relayed), so it is shown with the limit lowered to 3."""
    monkeypatch.setattr(compiler, "MAX_RULES_PER_TEST", 3)
    text = rules_text(1, [f"f0 in [1, {k}]" for k in range(2, 6)])     # 4 rules on the test f0 == 1
    problem = refused(text)
    assert "more than 3 engine rules" in problem.message
    cid = problem.message.split("'")[1]
    assert problem.path == "big.yaml" and problem.line > 0
    assert text.splitlines()[problem.line - 1].startswith(f"  - {{id: {cid},")


def test_repeated_list_values_are_one_test():
    program = load_program("big.yaml", text=rules_text(1, ["f0 in [1, 1, 2, 2, 2]"]))
    assert len(compiler.compile_program(program).rules) == len(
        compiler.compile_program(load_program("big.yaml", text=rules_text(1, ["f0 in [1, 2]"]))).rules)


def test_a_concept_used_by_many_joins_is_relayed_and_agrees():
    """A derived fact feeds at most 250 rules (error 108 past 255): further rules read a relay copy."""
    program = load_program("big.yaml", text=rules_text(2, [f"f0 > 0 and f1 > {i}" for i in range(600)]))
    profiles = [{"f0": 1, "f1": 300}, {"f0": 0, "f1": 700}, {"f0": 1}, {"f1": 5}, {}, {"f0": 1, "f1": 1000}]
    compiled = agrees(program, profiles)
    assert any("@" in name for name in compiled.rules)


def test_large_random_ruleset_works_and_agrees():
    rng = random.Random(5)
    crit = [f"f{rng.randrange(150)} > {rng.randrange(10)} or f{rng.randrange(150)} == {rng.randrange(10)}"
            for _ in range(300)]
    program = load_program("big.yaml", text=rules_text(150, crit))
    profiles = [{f"f{i}": rng.randrange(0, 10) for i in range(150) if rng.random() < 0.9} for _ in range(40)]
    agrees(program, profiles)


def test_ruleset_at_the_limit_works_and_agrees():
    crit = [f"f{i} > 0" for i in range(55)] + [" or ".join(f"f{i} == 1" for i in range(5))]
    program = load_program("big.yaml", text=rules_text(55, crit))
    ev = Evaluator(program)
    rng = random.Random(1)
    try:
        with deadline():
            for k in range(300):
                values = {f"f{i}": rng.randrange(-1, 3) for i in range(55) if k % 3 or rng.random() < 0.9}
                assert ev.run(values).outcomes() == evaluate_nodes(program, values)
    finally:
        ev.close()


@pytest.fixture
def evaluator():
    ev = Evaluator(load_program(os.path.join(DATA, "all_ops.yaml")))
    yield ev
    ev.close()


GOOD = {"b": True, "c": False, "i": 4, "x": 0.25, "e": "low", "s": "z", "l": ("red",), "free": ("x",)}


def test_firing_budget_then_next_applicant_is_correct(evaluator):
    compiled = evaluator.compiled
    budget = compiled.budget
    compiled.budget = 3
    with deadline(), pytest.raises(EngineError, match="firing budget of 3 exceeded"):
        evaluator.run(GOOD)
    compiled.budget = budget
    for values in (GOOD, {}, {"i": 11, "e": "high"}):
        assert evaluator.run(values).outcomes() == evaluate_nodes(evaluator.program, values)


def test_run_all_isolates_a_failure_to_its_own_profile(evaluator):
    """run_all runs a group of profiles under one lock: a profile that stops at the budget gets its
    EngineError, and the profiles before and after it get their own, correct firings."""
    compiled = evaluator.compiled
    engine = DurableEngine(compiled)
    small, big = {}, GOOD
    need = len(engine.run_docs(compiled.encode(big)).rules)
    assert len(engine.run_docs(compiled.encode(small)).rules) < need - 1
    budget = engine.compiled.budget
    engine.compiled.budget = need - 1
    try:
        with deadline():
            out = engine.run_all_docs([compiled.encode(v) for v in (small, big, small, big)])
    finally:
        engine.compiled.budget = budget
    assert [isinstance(r, EngineError) for r in out] == [False, True, False, True]
    # a profile with no facts at all is an error of its own, not a rerun of the previous state
    empty = engine.run_all_docs([compiled.encode(small), (), compiled.encode(small)])
    assert str(empty[1]) == "the profile has no engine facts" and empty[0].rules == empty[2].rules
    assert "firing budget" in str(out[1])
    for values, result in zip((small, small), (out[0], out[2])):
        assert result.outcomes() == evaluate_nodes(evaluator.program, values)
    assert evaluator.run(GOOD).outcomes() == evaluate_nodes(evaluator.program, GOOD)   # the engine goes on
    engine.close()


class _Minting(dict):
    """A derive table whose every firing asserts a brand-new fact: a runaway chain."""

    def __init__(self, base):
        super().__init__(base)
        self.n = 0

    def get(self, key, default=None):
        self.n += 1
        return json.dumps({"t": compiler.DERIVED, "n": f"loop{self.n}"})


def test_runaway_chain_stops_at_the_budget(evaluator):
    compiled = evaluator.compiled
    looping = compiler.CompiledRuleset(
        rules={**compiled.rules, "loop": {"all": [{"a": {"t": compiler.DERIVED}}]}},
        derive=compiled.derive, target=compiled.target, pairs=compiled.pairs,
        budget=500, encode=compiled.encode)
    engine = DurableEngine(looping)
    try:
        engine._derive = _Minting(compiled.derive)
        with deadline(), pytest.raises(EngineError, match="firing budget of 500 exceeded"):
            engine.run_docs(compiled.encode(GOOD))
        engine._derive = compiled.derive
        result = engine.run_docs(compiled.encode(GOOD))     # the same engine still works
        assert result.outcomes() == evaluate_nodes(evaluator.program, GOOD)
    finally:
        engine.close()


def test_engine_error_303_recovers_for_the_next_applicant():
    """Bypass the static guard to reach the engine's error 303, in a child process (a bad recovery would crash)."""
    script = textwrap.dedent(f"""
        import random, sys
        sys.path.insert(0, {os.path.join(ROOT, 'tests')!r})
        from helpers import rules_text
        from eligibility.engine import compiler
        from eligibility.api import Evaluator
        from eligibility.core.errors import EngineError
        from eligibility.language.semantics import evaluate_nodes
        from eligibility.language.rules import load_program
        compiler.MAX_MATCHING_TESTS = 10_000
        program = load_program("big.yaml", text=rules_text(70, [f"f{{i}} > 0" for i in range(70)]))
        ev = Evaluator(program)
        errors = ok = 0
        rng = random.Random(3)
        for k in range(200):
            full = {{f"f{{i}}": 1 for i in range(70)}}
            try:
                ev.run(full)
            except EngineError as exc:
                errors += "303" in str(exc)
            few = {{f"f{{i}}": rng.randrange(-1, 2) for i in rng.sample(range(70), 30)}}
            ok += ev.run(few).outcomes() == evaluate_nodes(program, few)
        print(errors, ok)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["200", "200"]
