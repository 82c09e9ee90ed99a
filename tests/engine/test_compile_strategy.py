"""How the compiler writes `and`/`or` nodes: flat (rules on the profile alone) when they fit,
chained (joins of derived facts) otherwise; both agree with the reference meaning."""
import itertools
import random

from eligibility.api import Evaluator, load_rules
from eligibility.engine import compiler
from eligibility.language.expr import And, Or
from eligibility.language.rules import load_program
from eligibility.language.semantics import evaluate_nodes

from helpers import EXAMPLE_RULES, RULES, engine_agrees, rules_text


def combining_nodes(program):
    return [n for c in [*program.concepts.values(), *program.criteria] for n in c.condition.walk()
            if isinstance(n, (And, Or))]


def rules_of(compiled, node):
    """The rules settling the node itself (named `<id>+#k` / `<id>-#k`; a chained join is `<id>+`)."""
    return [name for name in compiled.rules if name.split("#")[0].rstrip("+-") == str(node.id)]


def test_the_shipped_and_example_programmes_compile_flat():
    """Every and/or node fires from the profile: no rule reads a derived fact, none is asserted."""
    for path in (RULES, EXAMPLE_RULES):
        program = load_rules(path)
        compiled = compiler.compile_program(program)
        assert compiled.derive == {}, path
        on_derived = [name for name, rule in compiled.rules.items()
                      if any(str(next(iter(cond.values())).get("$and", [{}])[0].get("t", "")).startswith(compiler.DERIVED)
                             for cond in rule["all"])]
        assert on_derived == [], path
        assert all(rules_of(compiled, n) for n in combining_nodes(program)), path


def test_a_node_past_the_flat_limits_is_chained_and_agrees():
    """(a or b) and ... of five pairs is true by 2^5 = 32 conjunctions, past FLAT_MAX_TERMS: chained.
    Its `or` children stay flat and assert the derived facts it joins."""
    pairs = " and ".join(f"(f{2 * i} > 0 or f{2 * i + 1} > 0)" for i in range(5))
    program = load_program("big.yaml", text=rules_text(10, [pairs]))
    compiled = compiler.compile_program(program)
    root = program.criteria[0].condition
    assert any(name.startswith(f"{root.id}+") for name in compiled.rules)
    assert compiled.derive, "the chained node's children assert what it joins"
    rng = random.Random(3)
    profiles = [{f"f{i}": rng.randrange(-1, 2) for i in range(10) if rng.random() < 0.8} for _ in range(300)]
    profiles += [dict(zip((f"f{i}" for i in range(10)), values)) for values in itertools.product([0, 1], repeat=10)][::7]
    engine_agrees(program, profiles)


def test_a_flat_node_fires_once_per_true_conjunction_and_settles_its_outcome():
    program = load_program("big.yaml", text=rules_text(3, ["f0 > 0 and (f1 > 0 or f2 > 0)"]))
    compiled = compiler.compile_program(program)
    assert compiled.derive == {}
    root = program.criteria[0].condition
    ev = Evaluator(program, engine="durable")
    try:
        fired = ev.run({"f0": 1, "f1": 1, "f2": 1}).rules
        assert sum(r.startswith(f"{root.id}+#") for r in fired) == 2      # f0 and f1; f0 and f2
        for values in ({"f0": 1, "f1": 1, "f2": 1}, {"f0": 0}, {"f1": 0, "f2": 0}, {"f1": 1}, {}):
            assert ev.run(values).outcomes() == evaluate_nodes(program, values), values
    finally:
        ev.close()
