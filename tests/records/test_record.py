"""records.RecordEncoder (the batch's JSON Lines records, run and assessment fields encoded once)
writes exactly what compact_json(record(...)) writes, byte for byte, in every situation a batch meets."""
import glob
import json
import os
import random

import pytest

from helpers import APPLICANTS, DATA, EXAMPLE_RULES, RULES
from eligibility import api
from eligibility.language.profile import applicant_from_data
from eligibility.core.errors import Problems
from eligibility.evaluate.memo import Memo
from eligibility.records.record import RecordEncoder, RecordOptions, compact_json, evaluation_record, record
from eligibility.language.rules import load_program
from helpers import random_profile


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


@pytest.mark.parametrize("rules", [RULES, EXAMPLE_RULES])
@pytest.mark.parametrize("engine", ["durable", "python"])
@pytest.mark.parametrize("command", [None, ("eligibility", "batch", "x.jsonl")])
@pytest.mark.parametrize("limit", [None, 5, 4096])
def test_lines_equal_plain_records(engine, command, limit, rules):
    program = api.load_rules(rules)
    evaluator = api.Evaluator(program, engine)
    memo = Memo(limit) if limit else None
    options = RecordOptions(command=command)
    encoder = RecordEncoder(options, memo)
    verdicts = set()
    applicants = list(synthetic_applicants(program, 600))
    for start in range(0, len(applicants), 32):
        for ev in evaluator.evaluate_all(applicants[start:start + 32], trace=False, memo=memo):
            verdicts.add(ev.verdict)
            expected = compact_json(record(ev, options))
            assert encoder.line(ev) == expected and encoder.line(ev, newline=True) == expected + "\n"
            assert json.loads(expected) == evaluation_record(ev, trace=False, command=list(command) if command else None)
    # random example profiles rarely meet its five gates: selected ones are in the other tests
    assert verdicts == {"selected", "excluded", "undetermined"} if rules == RULES else {"excluded", "undetermined"} <= verdicts
    evaluator.close()


def test_lines_with_trace_overrides_params_and_as_of():
    program = api.load_rules(RULES, params={"quota": 3, "min_generations": 3}, as_of="2025-09-01")
    evaluator = api.Evaluator(program)
    paths = sorted(glob.glob(os.path.join(APPLICANTS, "*.yaml")))
    for trace in (False, True):
        options = RecordOptions(trace=trace, command=("eligibility", "batch"))
        encoder = RecordEncoder(options, Memo())
        for k, path in enumerate(paths):
            applicant = api.load_profile(path, program)
            if k % 2:
                api.apply_overrides(applicant, program, {"open_weights_released": "true"})
            ev = evaluator.evaluate(applicant, "2025-09-01", trace=trace)
            expected = compact_json(record(ev, options))
            assert encoder.line(ev) == expected and encoder.line(ev, newline=True) == expected + "\n"
            assert ("trace" in json.loads(expected)) == trace
    # a second program through the same encoder: its run fields are encoded again
    other = api.load_rules(RULES)
    ev = api.Evaluator(other, "python").evaluate(api.load_profile(paths[0], other), trace=False)
    assert encoder.line(ev) == compact_json(record(ev, options))
    evaluator.close()


VOUCHER = os.path.join(os.path.dirname(RULES), "..", "examples", "innovation-voucher")


def dated_voucher_rules(tmp_path):
    """The example programme with its lookback counted back from `today` instead of a fixed date."""
    text = open(os.path.join(VOUCHER, "rules.yaml"), encoding="utf-8").read()
    old = "voucher_free_from <= decision_date"
    assert text.count(old) == 1
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, "voucher_free_from <= today"), encoding="utf-8")
    return str(path)


def test_evaluation_date_is_recorded_when_the_rules_read_today(tmp_path, run_cli):
    rules = dated_voucher_rules(tmp_path)
    profile = os.path.join(VOUCHER, "applicants", "cobalt.yaml")     # voucher free from 2027-06-01
    for as_of, verdict in (("2026-03-31", "excluded"), ("2027-06-01", "selected")):
        r = run_cli("check", profile, "--rules", rules, "--as-of", as_of, "-f", "json")
        rec = json.loads(r.stdout)
        assert (rec["evaluation_date"], rec["trace"]["evaluation_date"], rec["verdict"]) == (as_of, as_of, verdict)
    batch = run_cli("batch", os.path.join(VOUCHER, "applicants"), "--rules", rules, "--as-of", "2026-03-31", "-f", "jsonl")
    lines = [json.loads(line) for line in batch.stdout.splitlines() if line.strip()]
    records = [x for x in lines if "verdict" in x and "applicant" in x]
    assert len(records) == 10 and {x["evaluation_date"] for x in records} == {"2026-03-31"}
    shipped = json.loads(run_cli("check", os.path.join(APPLICANTS, "kt.yaml"), "--rules", RULES, "-f", "json").stdout)
    assert "evaluation_date" not in shipped and "evaluation_date" not in shipped["trace"]


def test_lines_equal_plain_records_when_the_rules_read_today(tmp_path):
    program = api.load_rules(dated_voucher_rules(tmp_path))
    evaluator = api.Evaluator(program)
    encoder, options = RecordEncoder(RecordOptions(), Memo()), RecordOptions()
    applicants = list(synthetic_applicants(program, 200))
    for ev in evaluator.evaluate_all(applicants, as_of="2026-03-31", trace=False, memo=Memo()):
        expected = compact_json(record(ev, options))
        assert encoder.line(ev) == expected and json.loads(expected)["evaluation_date"] == "2026-03-31"
    evaluator.close()


def test_a_batch_judges_every_applicant_on_the_day_it_fixes(tmp_path):
    """Rules that read `today`, no as-of date: the batch's day (BatchOptions.today, which run_batch
    fixes when it starts) is the one the engine, the reason and the record use, with one job or two."""
    import datetime as dt
    from eligibility.program.batch import BatchOptions, run_batch
    program = api.load_rules(dated_voucher_rules(tmp_path))
    applicants = os.path.join(VOUCHER, "applicants")
    for day, verdict in ((dt.date(2026, 3, 31), "excluded"), (dt.date(2027, 6, 1), "selected")):
        for jobs in (1, 2):
            result = run_batch(program, [applicants], BatchOptions(today=day, jobs=jobs))
            cobalt = next(e for e in result.decision.entries if e.id == "cobalt")
            assert cobalt.verdict == verdict, (day, jobs)
            if verdict == "excluded":
                assert f"{day.isoformat()}" in cobalt.why, cobalt.why
    evaluator = api.Evaluator(program)
    with_evidence = api.load_applicant(os.path.join(applicants, "cobalt.yaml"), program)
    facts = {k: v.isoformat() if isinstance(v, dt.date) else list(v) if isinstance(v, tuple) else v
             for k, v in with_evidence.values().items()}
    bare = applicant_from_data({"id": "bare", "facts": facts}, program, "p.jsonl", "0" * 64, Problems("p.jsonl"),
                               require_evidence=False, line=1)
    worked = "= 2027-06-01 <= 2026-03-31, which is false"
    for applicant in (with_evidence, bare):
        (ev,) = evaluator.evaluate_all([applicant], trace=True, memo=Memo(), today=dt.date(2026, 3, 31))
        rec = record(ev, RecordOptions(trace=True))
        assert (rec["evaluation_date"], rec["trace"]["evaluation_date"], rec["verdict"]) == ("2026-03-31",) * 2 + ("excluded",)
        # the reason, and the trace's deciding leaves and its tree of the gate
        assert worked in rec["reason"] and json.dumps(rec["trace"]).count(worked) == 2, applicant.id
    evaluator.close()


def test_one_encoder_writes_the_record_of_each_program_it_meets():
    """The rank_keys field is in the records of a program that ranks by a fact, and only there,
    also when one encoder writes records of both kinds in turn."""
    programs = [api.load_rules(RULES), api.load_rules(EXAMPLE_RULES)]
    evaluators = [api.Evaluator(p) for p in programs]
    encoder = RecordEncoder(RecordOptions(), Memo())
    seen = []
    for i in range(40):
        program, evaluator = programs[i % 2], evaluators[i % 2]
        (applicant,) = synthetic_applicants(program, 1, seed=i)
        ev = evaluator.evaluate(applicant, trace=False)
        line = encoder.line(ev)
        assert line == compact_json(record(ev, RecordOptions()))
        seen.append(("rank_keys" in json.loads(line), program is programs[1]))
    assert all(has == ranked for has, ranked in seen) and {r for _, r in seen} == {True, False}
    for e in evaluators:
        e.close()


def test_criteria_texts_shared_between_records_keep_each_number_as_written():
    """With a memo, each distinct criterion result's text is made once and shared between records:
    results equal as numbers but written differently (points 6 and 6.0, from a mark of 6 and 6.0)
    each keep their own text, whichever came first."""
    text = ("program: {id: marks, title: marks, sources: [{id: s, title: s}]}\n"
            "facts:\n  mark: {type: float, range: [0, 10]}\n"
            "criteria:\n  - {id: c, title: c, kind: scored, points: mark, condition: mark >= 0, source: {ref: s, clause: x}}\n"
            "decision: {threshold: 1}\n")
    program = load_program("marks.yaml", text=text)
    evaluator = api.Evaluator(program, "python")
    encoder = RecordEncoder(RecordOptions(), Memo())
    awarded = []
    for k, mark in enumerate([6, 6.0, 6, 7.0, 7]):
        data = {"id": f"a{k}", "facts": {"mark": mark}}
        applicant = applicant_from_data(data, program, "pop.jsonl", "0" * 64, Problems("pop.jsonl"),
                                        require_evidence=False, line=k + 1)
        ev = evaluator.evaluate(applicant, trace=False)
        line = encoder.line(ev)
        assert line == compact_json(record(ev, RecordOptions()))
        awarded.append(json.loads(line)["criteria"][0]["awarded"])
    assert [type(p).__name__ for p in awarded] == ["int", "float", "int", "float", "int"]
    evaluator.close()
