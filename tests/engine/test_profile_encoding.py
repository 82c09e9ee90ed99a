"""compiler's profile encoder writes, for every shard, exactly the JSON that json.dumps gives for
that shard's fields: the engine sees the same facts as the conditions were compiled against."""
import json
import os
import random

import pytest

from helpers import DATA, RULES
from eligibility.engine.compiler import compile_program, engine_value, field_name, length_field
from eligibility.language.rules import load_program
from helpers import random_profile
from helpers import rules_text

WIDE = rules_text(150, [f"f{i} > 0" for i in range(150)])     # sharded: more than one profile fact


def read(program):
    return set().union(*(program.facts_read(c.condition) for c in program.criteria))


def expected_docs(program, compiled, values):
    """The shard texts built the plain way: a dict per shard, then json.dumps."""
    docs = []
    for doc in compiled.encode({name: values[name] for name in values}):
        tag = json.loads(doc)["t"]
        fields = {"t": tag}
        for name in json.loads(doc):
            if name.startswith("f_"):
                fact = name[2:]
                fields[field_name(fact)] = engine_value(values[fact])
                if program.facts[fact].type == "list":
                    fields[length_field(fact)] = len(values[fact])
        docs.append(json.dumps(fields, separators=(",", ":"), ensure_ascii=False))
    return docs


@pytest.mark.parametrize("source", [RULES, os.path.join(DATA, "all_ops.yaml"), WIDE], ids=["sovereign-ai", "all-ops", "sharded"])
def test_encoded_profiles_are_the_json_of_their_fields(source):
    program = load_program("big.yaml", text=source) if source is WIDE else load_program(source)
    compiled = compile_program(program)
    rng = random.Random(3)
    shards, facts_read = set(), read(program)
    for i in range(2000):
        if source is WIDE:
            values = {f"f{k}": rng.choice([-2, 0, 1, 7, 2 ** 40]) for k in range(150) if rng.random() < 0.7}
        else:
            values = random_profile(rng, program, missing=(i % 5) * 0.2)
        docs = compiled.encode(values)
        assert list(docs) == expected_docs(program, compiled, values)
        every = {k for d in docs for k in json.loads(d) if k.startswith("f_")}
        assert every == {field_name(k) for k in values if k in facts_read}
        shards.add(len(docs))
    assert compiled.encode({}) == ('{"t":"p0"}',)
    assert (max(shards) > 1) == (source is WIDE)


def test_text_values_are_escaped_as_json_does():
    program = load_program(os.path.join(DATA, "all_ops.yaml"))
    compiled = compile_program(program)
    strings = [n for n, s in program.facts.items() if s.type == "string" and n in read(program)]
    assert strings
    for text in ['quote"d', "back\\slash", "한국어", "tab\there", "\u2028", "nul\x00"]:
        doc = compiled.encode({strings[0]: text})[0]
        assert json.loads(doc)[field_name(strings[0])] == text


@pytest.mark.parametrize("source", [RULES, os.path.join(DATA, "all_ops.yaml"), WIDE], ids=["sovereign-ai", "all-ops", "sharded"])
def test_unknown_values_are_left_out_as_if_absent(source):
    """Evaluator.evaluate_all encodes a bulk applicant's values as read, with None for each
    unknown fact: the engine must get the same facts as from its known values alone."""
    program = load_program("big.yaml", text=source) if source is WIDE else load_program(source)
    compiled = compile_program(program)
    rng = random.Random(5)
    for i in range(500):
        if source is WIDE:
            known = {f"f{k}": rng.choice([-2, 0, 1, 7]) for k in range(150) if rng.random() < 0.5}
        else:
            known = random_profile(rng, program, missing=(i % 5) * 0.2)
        as_read = {name: known.get(name) for name in program.facts}
        assert None in as_read.values() or len(known) == len(program.facts)
        assert compiled.encode(as_read) == compiled.encode(known)


def test_bulk_applicants_values_as_read_are_their_known_values_and_unknowns():
    from eligibility.program import inputs
    program = load_program(RULES)
    line = json.dumps({"id": "a1", "name": "A", "facts": {"in_house_architecture": True, "model_generations": 2,
                                                          "pretrained_from_scratch": "unknown"}})
    (applicant,) = inputs.parse_items([inputs.Item(0, "jsonl", "pop.jsonl", 1, line)], program)
    assert applicant.fact("pretrained_from_scratch").value is None and applicant.bare
    assert applicant.values() == {"in_house_architecture": True, "model_generations": 2}
