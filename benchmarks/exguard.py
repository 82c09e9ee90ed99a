"""Measurement (a script, not a test): does a durable field-to-field comparison (`$m`) need the
`$ex` guard? Counts the nodes where durable differs from the reference evaluator, with and without
the guard, on seeded random profiles of tests/data/all_arith.yaml.

    PYTHONPATH=src python benchmarks/exguard.py
"""
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from eligibility.engine import compiler
from eligibility.api import Evaluator
from eligibility.language.rules import load_program
from eligibility.language.semantics import evaluate_nodes
from test_engine_differential import random_profile

original = compiler._Compiler.value_test
def unguarded(self, n, outcome):
    test = original(self, n, outcome)
    return test["$and"][2] if "$and" in test else test

for label, fn in (("guarded", original), ("unguarded", unguarded)):
    compiler._Compiler.value_test = fn
    program = load_program(os.path.join(ROOT, "tests", "data", "all_arith.yaml"))
    ev = Evaluator(program)
    rng, bad_profiles, bad_nodes = random.Random(1), 0, 0
    N = 5000
    for i in range(N):
        values = random_profile(rng, program, missing=(i % 5) * 0.2)
        d, _ = ev.outcomes(values, keep_messages=False)
        r = evaluate_nodes(program, values)
        wrong = [k for k in r if d.get(k) != r[k]]
        bad_profiles += bool(wrong); bad_nodes += len(wrong)
    print(f"{label}: {bad_profiles} of {N} profiles with a wrong node, {bad_nodes} wrong nodes")
    ev.close()
