"""Programmes of hundreds of criteria run in the engine: a test shared by many conditions is one
engine rule, so repeated criteria never reach the engine's per-fact limits (error 303)."""
import json
import os
import sys

import pytest
import yaml

from eligibility.engine.compiler import compile_program
from eligibility.language.rules import load_program

from helpers import FACTS, ROOT, rules_text

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench  # noqa: E402
import programs  # noqa: E402


@pytest.mark.slow
def test_generated_1000_criteria_batch_agrees_with_python(tmp_path, run_cli):
    rules = programs.write(str(tmp_path / "c1000.yaml"), criteria=1000)
    pop = str(tmp_path / "pop.jsonl")
    bench.write_population(pop, 300)
    out = tmp_path / "out.jsonl"
    r = run_cli("batch", pop, "--rules", rules, "--engine", "both", "--format", "jsonl", "-o", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 301 and not any(rec.get("error") for rec in records)
    assert "0 error(s)" in r.stderr + r.stdout


@pytest.mark.slow
def test_generated_1000_criteria_check_agrees(tmp_path, run_cli):
    rules = programs.write(str(tmp_path / "c1000.yaml"), criteria=1000)
    with open(os.path.join(ROOT, "applicants", "kt.yaml"), encoding="utf-8") as fh:
        kt = yaml.safe_load(fh)
    kt["facts"] = {k: v for k, v in kt["facts"].items() if k in FACTS}    # the phase-1 facts are not in it
    profile = tmp_path / "kt.yaml"
    profile.write_text(yaml.safe_dump(kt, allow_unicode=True), encoding="utf-8")
    r = run_cli("check", str(profile), "--rules", rules, "--engine", "both")
    assert r.returncode in (0, 1), r.stderr[-2000:]
    assert "Traceback" not in r.stderr


def test_a_repeated_test_is_one_engine_rule():
    one = compile_program(load_program("big.yaml", text=rules_text(1, ["f0 > 0"])))
    many = compile_program(load_program("big.yaml", text=rules_text(1, ["f0 > 0"] * 300 + ["not f0 > 0"])))
    assert len(many.rules) == len(one.rules)
