"""Property-based fuzzing (hypothesis).

* Random rules files (random fact schemas, parameters, concepts over concepts, condition trees with
  every construct) + random profiles: the durable path agrees with reference.evaluate_nodes on every node.
* Mutated shipped files (rules and profiles: deleted/duplicated lines, swapped characters, wrong types,
  random bytes): loading gives either a result or clean problems that name the file, nothing else.

Examples per test come from ELIGIBILITY_FUZZ_EXAMPLES (default sized for CI, see SECURITY.md).
"""
import glob
import os
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from eligibility.api import Evaluator
from eligibility.core.errors import InputError
from eligibility.core.text import find_unsafe
from eligibility.language.profile import load_applicant
from eligibility.engine.python import CompiledNodes
from eligibility.language.semantics import evaluate_nodes
from eligibility.language.rules import load_program
from eligibility.language.yamlsafe import read_text

from helpers import APPLICANTS, DATA, RULES
from helpers import random_profile
from helpers import deadline

SCALE = int(os.environ.get("ELIGIBILITY_FUZZ_EXAMPLES", "2000"))
PROFILES_PER_PROGRAM = 12
FUZZ = settings(max_examples=SCALE, deadline=None, derandomize="ELIGIBILITY_FUZZ_RANDOM" not in os.environ,
                suppress_health_check=list(HealthCheck), print_blob=True)
FACT_TYPES = ["bool", "int", "float", "enum", "string", "list", "date"]
ENUM = ["low", "mid", "high"]
ITEMS = ["red", "green", "blue"]
NUMS = {"int": [-1, 0, 1, 2, 3, 5, 10], "float": [0.0, 0.25, 0.5, 1.0, -3.5, 2]}
DATES = ['"2019-12-31"', '"2020-01-01"', '"2025-08-04"']
STRINGS = ['"a"', '"b"', '""', '"한국어"', "'quote\"d'"]


@st.composite
def rules_files(draw):
    """A valid random rules file as text."""
    n = draw(st.integers(1, 8))
    facts = {f"f{i}": draw(st.sampled_from(FACT_TYPES)) for i in range(n)}
    params = {}
    for t in ("int", "float", "date"):
        if draw(st.booleans()):
            params[f"p_{t}"] = (t, draw(st.sampled_from(NUMS[t])) if t != "date" else "2025-08-04")
    concepts: list[str] = []
    optional = {k for k, t in facts.items() if t != "list" and draw(st.integers(0, 3)) == 0}
    numeric = sorted(k for k, t in facts.items() if t in ("int", "float"))

    def term(depth):
        """A random value expression: numbers, numeric facts, parameters, + - * /, unary minus, functions."""
        kind = draw(st.integers(0, 6 if depth < 2 else 1))
        if kind == 0 and numeric:
            return draw(st.sampled_from(numeric))
        if kind <= 1:
            return str(draw(st.sampled_from(NUMS["int"] + NUMS["float"] + [p for p in ("p_int", "p_float") if p in params])))
        if kind == 2:
            return f"({term(depth + 1)} {draw(st.sampled_from(['+', '-', '*', '/']))} {term(depth + 1)})"
        if kind == 3:
            return f"-{term(depth + 1)}"
        if kind == 4:
            return f"{draw(st.sampled_from(['min', 'max']))}({term(depth + 1)}, {term(depth + 1)})"
        return f"{draw(st.sampled_from(['abs', 'round']))}({term(depth + 1)})"

    def value_leaf(name, t):
        """A comparison of value expressions reading fact `name` (arithmetic, fact with fact, dates)."""
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        if t == "date":
            shift = draw(st.sampled_from(["years", "months", "days"]))
            n = draw(st.sampled_from(["-1", "0", "1", "3"] + [k for k in numeric if facts[k] == "int"]))
            dates = [k for k, kt in facts.items() if kt == "date"] + DATES
            other = draw(st.sampled_from(dates))
            if draw(st.booleans()):
                return f"years_between({name}, {other}) {op} {draw(st.sampled_from(['0', '1', '-2']))}"
            return f"{name} + {shift}({n}) {op} {other}"
        return f"({name} {draw(st.sampled_from(['+', '-', '*', '/']))} {term(1)}) {op} {term(0)}"

    def leaf():
        name, t = draw(st.sampled_from(sorted(facts.items())))
        if name in optional and draw(st.integers(0, 5)) == 0:
            return f"{name} is {draw(st.sampled_from(['', 'not ']))}{draw(st.sampled_from(['none', 'known']))}"
        if t in ("int", "float", "date") and draw(st.integers(0, 3)) == 0:
            return value_leaf(name, t)
        if concepts and draw(st.integers(0, 5)) == 0:
            c = draw(st.sampled_from(concepts))
            return draw(st.sampled_from([c, f"not {c}", f"{c} == false", f"{c} != false"]))
        if t == "bool":
            return draw(st.sampled_from([name, f"not {name}", f"{name} == true", f"{name} != false", f"false == {name}"]))
        if t in ("int", "float"):
            v = lambda: str(draw(st.sampled_from(NUMS[t] + ([f"p_{t}"] if f"p_{t}" in params else []))))
            op = lambda: draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
            kind = draw(st.integers(0, 4))
            if kind == 0:
                return f"{name} {op()} {v()}"
            if kind == 1:
                return f"{v()} {op()} {name}"
            if kind == 2:
                return f"{v()} < {name} <= {v()}"
            vals = ", ".join(str(x) for x in draw(st.lists(st.sampled_from(NUMS[t]), min_size=1, max_size=4)))
            return f"{name} {'not in' if kind == 4 else 'in'} [{vals}]"
        if t in ("enum", "string"):
            pool = [f'"{e}"' for e in ENUM] if t == "enum" else STRINGS
            kind = draw(st.integers(0, 2))
            if kind < 2:
                return f"{name} {'==' if kind == 0 else '!='} {draw(st.sampled_from(pool))}"
            vals = ", ".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))
            return f"{name} {draw(st.sampled_from(['in', 'not in']))} [{vals}]"
        if t == "list":
            return f'"{draw(st.sampled_from(ITEMS))}" {draw(st.sampled_from(["in", "not in"]))} {name}'
        v = draw(st.sampled_from(DATES + (["p_date"] if "p_date" in params else [])))
        return f"{name} {draw(st.sampled_from(['==', '!=', '<', '>=']))} {v}"

    def tree(depth):
        kind = draw(st.integers(0, 5 if depth < 3 else 0))
        if kind <= 2:
            return leaf()
        if kind == 3:
            return f"not ({tree(depth + 1)})"
        parts = [tree(depth + 1) for _ in range(draw(st.integers(2, 4)))]
        return "(" + (" and " if kind == 4 else " or ").join(parts) + ")"

    concept_lines = []
    for i in range(draw(st.integers(0, 3))):
        cond = tree(0)
        concepts.append(f"k{i}")
        concept_lines.append(f"  - id: k{i}\n    condition: {quote(cond)}\n")
    crit_lines = [f"  - id: c{i}\n    kind: {draw(st.sampled_from(['gate', 'scored']))}\n"
                  + ("" if i % 2 == 0 else "    points: 1\n")
                  + f"    condition: {quote(tree(0))}\n    source: {{ref: s, clause: x}}\n"
                  for i in range(draw(st.integers(1, 4)))]
    crit_lines = [c if "kind: scored" in c and "points" in c or "kind: gate" in c and "points" not in c
                  else c.replace("    kind: gate\n    points: 1\n", "    kind: gate\n").replace(
                      "    kind: scored\n", "    kind: scored\n    points: 1\n") for c in crit_lines]
    fact_lines = "".join(f"  {k}: {{type: {t}" + (f", values: {ENUM}" if t == "enum" else "")
                         + (f", items: {ITEMS}" if t == "list" else "") + (", optional: true" if k in optional else "")
                         + "}\n" for k, t in facts.items())
    param_lines = "".join(f"  {k}: {{type: {t}, value: {v}}}\n" for k, (t, v) in params.items())
    return ("program: {id: fuzz, title: fuzz, sources: [{id: s, title: s}]}\n"
            f"facts:\n{fact_lines}" + (f"parameters:\n{param_lines}" if params else "")
            + (f"concepts:\n{''.join(concept_lines)}" if concept_lines else "")
            + f"criteria:\n{''.join(crit_lines)}decision: {{threshold: 1}}\n")


def quote(condition: str) -> str:
    return "'" + condition.replace("'", "''") + "'"


@pytest.mark.slow
@FUZZ
@given(text=rules_files(), seed=st.integers(0, 2 ** 32))
def test_random_rules_agree_with_reference(text, seed):
    try:
        program = load_program("fuzz.yaml", text=text)
    except InputError as exc:      # the loader refuses conditions that are constant (e.g. '1 < x <= 1')
        assert all("for any known values of its facts" in p.message or "division by zero" in p.message
                   for p in exc.problems), str(exc)   # ... and division by a literal zero ('x / (1 - 1)')
        assume(False)
    rng = random.Random(seed)
    evaluator = Evaluator(program)
    closures = CompiledNodes(program)         # the --engine python evaluator
    try:
        with deadline(30):
            for k in range(PROFILES_PER_PROGRAM):
                values = random_profile(rng, program, missing=(k % 4) * 0.25)
                durable = evaluator.run(values).outcomes()
                python = evaluate_nodes(program, values)
                assert durable == python, (text, values,
                                           {n: (durable.get(n), python[n]) for n in python if durable.get(n) != python[n]})
                assert closures.evaluate(values) == python, (text, values)
    finally:
        evaluator.close()


# -- mutated shipped files -------------------------------------------------------------------------
SHIPPED_PROFILES = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
RULES_FILES = [RULES, os.path.join(DATA, "all_ops.yaml")]
WRONG_VALUES = ["[]", "{}", "~", "-1", "1e999", "true", '"text"', "2025-13-45", "&a x", "*a", "!!str 1",
                "[1, [2, [3]]]", "'''", "\"\\x00\"", "0x1F", ".nan",
                "\"\\e[31m\"", "\"\\u001b]0;t\\u0007\"", "\"\\ud800\"", "\"\\u009b\"", "\"\\u202e\"", "010", "yes", "1:30"]


@st.composite
def mutated(draw, data: bytes):
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 6))
        lines = lines or [b""]
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == 0 and len(lines) > 1:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[i] if lines else b"")
        elif kind == 2 and len(lines[i]) > 1:
            j = draw(st.integers(0, len(lines[i]) - 2))
            b = bytearray(lines[i])
            b[j], b[j + 1] = b[j + 1], b[j]
            lines[i] = bytes(b)
        elif kind == 3 and b":" in lines[i]:
            head = lines[i].split(b":", 1)[0]
            lines[i] = head + b": " + draw(st.sampled_from(WRONG_VALUES)).encode()
        elif kind == 4:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.binary(min_size=1, max_size=4)) + lines[i][j:]
        elif kind == 5:
            lines = lines[:i]
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.text(min_size=1, max_size=3)).encode("utf-8", "surrogatepass") + lines[i][j:]
    return b"\n".join(lines)


def clean_or_loaded(path, data, load):
    try:
        with deadline(30):
            return load(path, read_text(path, data))
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.path == path and "\n" not in str(problem) and str(problem).startswith(path)
        return None


@pytest.fixture(scope="module")
def program():
    return load_program(RULES)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_profiles_give_clean_errors(program, data):
    path = data.draw(st.sampled_from(SHIPPED_PROFILES))
    blob = data.draw(mutated(open(path, "rb").read()))
    applicant = clean_or_loaded(path, blob, lambda p, text: load_applicant(p, program, text))
    if applicant is not None:
        assert not [t for t in _texts(applicant) if find_unsafe(t) >= 0], "a control character was let through"
        values = applicant.values()
        ev = _evaluators.setdefault("main", Evaluator(program))
        assert ev.run(values).outcomes() == evaluate_nodes(program, values)


_evaluators: dict = {}


def _texts(value):
    """Every string in a loaded value (dataclasses, tuples, dicts), keys included."""
    import dataclasses
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            stack += [getattr(v, f.name) for f in dataclasses.fields(v)]
        elif isinstance(v, dict):
            stack += [*v.keys(), *v.values()]
        elif isinstance(v, (list, tuple)):
            stack += v


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_rules_files_give_clean_errors(data):
    path = data.draw(st.sampled_from(RULES_FILES))
    blob = data.draw(mutated(open(path, "rb").read()))
    program = clean_or_loaded(path, blob, lambda p, text: load_program(p, text=text))
    if program is not None and data.draw(st.integers(0, 4)) == 0:     # sometimes run it too, both engines
        ev = Evaluator(program, engine="both")
        try:
            rng = random.Random(0)
            for k in range(3):
                ev.run(random_profile(rng, program, missing=k * 0.3))
        finally:
            ev.close()
