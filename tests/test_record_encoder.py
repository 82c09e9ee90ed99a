"""record.RecordEncoder (the batch's fast JSON Lines records) writes exactly what
compact_json(evaluation_record(...)) writes, byte for byte, in every situation a batch meets."""
import glob
import os
import random

import pytest

from conftest import APPLICANTS, RULES
from eligibility import api
from eligibility.language.profile import applicant_from_data
from eligibility.core.errors import Problems
from eligibility.records.record import RecordEncoder, compact_json, evaluation_record
from test_engine_differential import random_profile


def synthetic_applicants(program, n, seed=7):
    rng = random.Random(seed)
    for i in range(n):
        values = random_profile(rng, program, missing=(i % 4) * 0.25)
        facts = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        data = {"id": f"a{i}", "name": f"Applicant \"{i}\" 한국", "facts": facts}
        if i % 3 == 0:
            data["consortium"] = ["x", "é"]
        applicant = applicant_from_data(data, program, "pop.jsonl", f"{i:064x}", Problems("pop.jsonl"),
                                        require_evidence=False, line=i + 1)
        assert applicant is not None
        yield applicant


@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize("command", [None, ["eligibility", "batch", "x.jsonl"]])
def test_lines_equal_generic_records(engine, command):
    program = api.load_rules(RULES)
    evaluator = api.Evaluator(program, engine)
    encoder = RecordEncoder(command)
    verdicts = set()
    for applicant in synthetic_applicants(program, 600):
        ev = evaluator.evaluate(applicant, trace=False)
        verdicts.add(ev.verdict)
        expected = compact_json(evaluation_record(ev, trace=False, command=command))
        assert encoder.line(ev) == expected and encoder.line(ev, newline=True) == expected + "\n"
    assert verdicts == {"selected", "excluded", "undetermined"}
    evaluator.close()


def test_lines_with_trace_overrides_params_and_as_of():
    program = api.load_rules(RULES, params={"quota": 3, "min_generations": 3}, as_of="2025-09-01")
    evaluator = api.Evaluator(program)
    encoder = RecordEncoder(["eligibility", "batch"])
    paths = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    for k, path in enumerate(paths):
        applicant = api.load_profile(path, program)
        if k % 2:
            api.apply_overrides(applicant, program, {"open_weights_released": "true"})
        for trace in (False, True):
            ev = evaluator.evaluate(applicant, "2025-09-01", trace=trace)
            expected = compact_json(evaluation_record(ev, trace=trace, command=encoder.command))
            assert encoder.line(ev, trace) == expected and encoder.line(ev, trace, newline=True) == expected + "\n"
    # a second program through the same encoder: its constant parts are re-encoded
    other = api.load_rules(RULES)
    ev = api.Evaluator(other, "python").evaluate(api.load_profile(paths[0], other), trace=False)
    assert encoder.line(ev) == compact_json(evaluation_record(ev, trace=False, command=encoder.command))
    evaluator.close()
