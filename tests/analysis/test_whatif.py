"""What-if overrides (`check --set/--param`) and counterfactuals (`check --flip`)."""
import dataclasses
import datetime as dt
import itertools
import json
import os
import random

import pytest

from eligibility import api
from eligibility.analysis.counterfactual import candidates, find_flips
from eligibility.language.model import FactSpec

from helpers import APPLICANTS, DATA, RULES, UNDECIDED

NAMES = sorted(f[:-5] for f in os.listdir(APPLICANTS) if f.endswith(".yaml"))


# -- what-if ---------------------------------------------------------------------------------
def test_set_and_param_are_applied_and_shown_in_json(run_cli):
    r = run_cli("check", "applicants/kt.yaml", "--format", "json", *UNDECIDED,
                "--set", "foreign_partner_dependency=limited", "--param", "score_threshold=60")
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["verdict"] == "selected" and rec["threshold"] == 60
    assert rec["overrides"] == {"selected_in_august": None, "foreign_partner_dependency": "limited"}
    assert rec["parameter_overrides"] == {"score_threshold": {"value": 60, "rules_value": 50}}
    assert rec["parameters"]["score_threshold"] == 60
    fact = rec["trace"]["facts"]["foreign_partner_dependency"]
    assert fact["overridden"] and fact["value"] == "limited"
    assert not rec["trace"]["facts"]["model_generations"]["overridden"]
    # without overrides the record says so
    plain = json.loads(run_cli("check", "applicants/kt.yaml", "--format", "json").stdout)
    assert plain["verdict"] == "excluded" and plain["overrides"] == {} and plain["parameter_overrides"] == {}


def test_param_alone_changes_the_verdict(run_cli):
    rec = json.loads(run_cli("check", "applicants/lg-ai-research.yaml", "-f", "json", *UNDECIDED,
                             "--param", "min_generations=5").stdout)
    crit = {c["id"]: c["outcome"] for c in rec["criteria"]}
    assert crit["development_experience"] == "not_met" and rec["verdict"] == "excluded"
    leaf = {c["id"]: c for c in rec["trace"]["criteria"]}["development_experience"]["tree"]
    assert leaf["children"][0]["parameter"] == "min_generations" if "children" in leaf else True


def test_overrides_shown_in_text_and_markdown(run_cli):
    args = ("check", "applicants/kt.yaml", "--set", "foreign_partner_dependency=none",
            "--param", "score_threshold=60", *UNDECIDED)
    text = run_cli(*args).stdout
    assert "what-if overrides: foreign_partner_dependency=none" in text
    assert "what-if parameters: score_threshold=60 (rules: 50)" in text
    assert "[override]" in text
    md = run_cli(*args, "--format", "markdown").stdout
    assert "- What-if overrides: `foreign_partner_dependency=none`" in md
    assert "- What-if parameters: `score_threshold=60` (rules: `50`)" in md
    assert md.startswith("# KT: **selected**")


def test_unknown_override_makes_it_undetermined(run_cli):
    rec = json.loads(run_cli("check", "applicants/naver-cloud.yaml", "-f", "json", *UNDECIDED,
                             "--set", "pretrained_from_scratch=unknown").stdout)
    assert rec["verdict"] == "undetermined" and rec["missing"] == ["pretrained_from_scratch"]
    assert rec["overrides"] == {"selected_in_august": None, "pretrained_from_scratch": None}


@pytest.mark.parametrize("args, message", [
    (("--set", "foreign_partner_dependancy=none"), "--set: unknown fact 'foreign_partner_dependancy' "
                                                    "(did you mean 'foreign_partner_dependency'?)"),
    (("--set", "foreign_partner_dependency=some"), "--set: foreign_partner_dependency=some: not a valid enum "
                                                    "(one of none, limited, heavy)"),
    (("--set", "model_generations=many"), "not a valid int"),
    (("--set", "novalue"), "--set: expected name=value"),
    (("--param", "score_treshold=60"), "--param score_treshold: no such parameter (did you mean 'score_threshold'?)"),
    (("--param", "score_threshold=high"), "--param score_threshold=high: not a valid int"),
])
def test_bad_overrides_are_one_clean_line(run_cli, args, message):
    r = run_cli("check", "applicants/kt.yaml", *args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


# -- counterfactuals: acceptance through the console script -------------------------------------
def test_kt_flip_names_the_change_and_set_confirms_it(run_cli):
    r = run_cli("check", "applicants/kt.yaml", "--flip", "--format", "json", *UNDECIDED)
    assert r.returncode == 0, r.stderr
    flips = json.loads(r.stdout)["flips"]
    assert flips["from"] == "excluded" and flips["targets"] == ["selected"]
    assert flips["search"]["complete"] and flips["search"]["rejected_by_engine"] == 0
    first = flips["found"][0]
    assert first["size"] == 1 and first["verdict"] == "selected" and first["confirmed_by"] == "durable"
    change = first["changes"][0]
    assert (change["fact"], change["from"]) == ("foreign_partner_dependency", "heavy")
    assert {change["to"], *change["or"]} == {"none", "limited"}
    assert first["criteria"] == [{"id": "foreign_independence", "kind": "gate", "from": "not_met", "to": "met"}]
    # every flip is minimal: no other flip is a subset of it
    sets = [{(c["fact"], json.dumps(c["to"])) for c in f["changes"]} for f in flips["found"]]
    assert not any(a < b for a in sets for b in sets)
    # applying each value with --set indeed makes KT selected
    for value in [change["to"], *change["or"]]:
        rec = json.loads(run_cli("check", "applicants/kt.yaml", "-f", "json", *UNDECIDED,
                                 "--set", f"foreign_partner_dependency={value}").stdout)
        assert rec["verdict"] == "selected", value
    for setting in first["set"]:
        assert json.loads(run_cli("check", "applicants/kt.yaml", "-f", "json", *UNDECIDED,
                                  "--set", setting).stdout)["verdict"] \
            == "selected"


def test_flip_text_and_markdown(run_cli):
    text = run_cli("check", "applicants/kt.yaml", "--flip", *UNDECIDED).stdout
    assert "What would flip it (excluded -> selected)" in text
    assert 'foreign_partner_dependency: "heavy" -> "none" or "limited"' in " ".join(text.split())
    md = run_cli("check", "applicants/kt.yaml", "--flip", "-f", "markdown", *UNDECIDED).stdout
    assert "## What would flip it (excluded -> selected)" in md
    assert '| 1 | `foreign_partner_dependency: "heavy" -> "none" or "limited"` | selected | 70 |' in md


def test_flip_from_a_what_if_state_and_questions(run_cli):
    r = run_cli("check", "applicants/upstage.yaml", "--flip", "-f", "json", *UNDECIDED,
                "--set", "planned_modalities=unknown", "--set", "model_generations=unknown")
    rec = json.loads(r.stdout)
    assert rec["verdict"] == "undetermined"
    flips = rec["flips"]
    assert flips["targets"] == ["selected", "excluded"]
    # only unknown facts are varied for an undetermined applicant
    assert set(flips["facts_varied"]) <= set(rec["missing"]) | {
        f for f, v in rec["trace"]["facts"].items() if v["value"] is None}
    assert {f["verdict"] for f in flips["found"]} == {"selected", "excluded"}
    assert all(c["from"] is None for f in flips["found"] for c in f["changes"])
    q = {x["fact"]: x for x in flips["questions"]}
    assert q["model_generations"]["settles"] == ["development_experience"]
    assert q["commercial_use_allowed"]["settles"] == [] and q["commercial_use_allowed"]["may_settle"] == \
        ["commercial_potential"]
    order = [x["fact"] for x in flips["questions"]]
    assert order.index("model_generations") < order.index("commercial_use_allowed")
    # a reported flip, applied with --set on top of the what-if, gives its verdict
    flip = flips["found"][0]
    sets = [a for s in flip["set"] for a in ("--set", s)]
    again = json.loads(run_cli("check", "applicants/upstage.yaml", "-f", "json", *UNDECIDED,
                               "--set", "planned_modalities=unknown",
                               "--set", "model_generations=unknown", *sets).stdout)
    assert again["verdict"] == flip["verdict"] and again["score"] == flip["score"]


# -- counterfactuals: the search itself ------------------------------------------------------------
@pytest.fixture(scope="module")
def program():
    return api.load_rules(RULES)


@pytest.fixture(scope="module")
def durable(program):
    ev = api.Evaluator(program)
    yield ev
    ev.close()


def _apply(applicant, program, changes):
    copy = dataclasses.replace(applicant, overrides=dict(applicant.overrides))
    return api.apply_overrides(copy, program, {c.fact: c.new for c in changes})


@pytest.mark.parametrize("name", NAMES)
def test_every_flip_of_every_applicant_is_real_and_minimal(program, durable, name):
    applicant = api.load_profile(os.path.join(APPLICANTS, f"{name}.yaml"), program)
    base = durable.evaluate(applicant, trace=False).verdict
    report = find_flips(program, applicant, durable=durable)
    assert report.verdict == base and report.complete and report.flips
    for flip in report.flips:
        # every alternative value of every change gives the verdict too
        for i, c in enumerate(flip.changes):
            for value in (c.new, *c.also):
                changes = flip.changes[:i] + (dataclasses.replace(c, new=value),) + flip.changes[i + 1:]
                assert durable.evaluate(_apply(applicant, program, changes), trace=False).verdict == flip.verdict
        for k in range(1, len(flip.changes)):
            for subset in itertools.combinations(flip.changes, k):
                assert durable.evaluate(_apply(applicant, program, subset), trace=False).verdict not in report.targets
    sizes = [len(f.changes) for f in report.flips]
    assert sizes == sorted(sizes)


def test_candidates_straddle_each_threshold():
    assert candidates(FactSpec("n", "int"), None, [(">=", 2)]) == [2, 1]
    assert candidates(FactSpec("n", "int"), 2, [(">=", 2)]) == [1]
    assert candidates(FactSpec("n", "int"), None, [(">", 2.5)]) == [2, 3]
    assert candidates(FactSpec("n", "int"), None, [("==", 4)]) == [4, 3, 5]
    assert candidates(FactSpec("x", "float"), None, [("<", 0.5)]) == [0.5, 0.5 - 0.0005]
    assert candidates(FactSpec("x", "float"), None, [(">", 0)]) == [0, 0.001]
    day = dt.date(2025, 8, 4)
    assert candidates(FactSpec("d", "date"), None, [(">=", day)]) == [day, day - dt.timedelta(days=1)]
    assert candidates(FactSpec("e", "enum", values=("a", "b", "c")), "b", []) == ["a", "c"]
    assert candidates(FactSpec("b", "bool"), True, []) == [False]
    assert candidates(FactSpec("s", "string"), None, [("==", "other"), ("!=", "x")]) == ["other", "x", "other_"]
    assert candidates(FactSpec("l", "list"), ("a", "b"), [("has", "b"), ("has", "c")]) == [("a",), ("a", "b", "c")]
    assert candidates(FactSpec("l", "list"), None, [("has", "b")]) == [(), ("b",)]


def test_flips_on_every_construct_agree_with_the_engine():
    """Random profiles of the all-operators program: each flip is confirmed and minimal."""
    prog = api.load_rules(os.path.join(DATA, "all_ops.yaml"))
    ev = api.Evaluator(prog)
    rng = random.Random(7)
    pools = {"b": [True, False], "c": [True, False], "i": [0, 3, 6, 11], "x": [0.1, 0.5, 0.9],
             "e": ["low", "mid", "high"], "s": ["a", "b", "z"], "l": [(), ("red",), ("green",), ("blue", "green")],
             "free": [(), ("x",), ("y",)], "d": [dt.date(2019, 1, 1), dt.date(2025, 8, 4), dt.date(2022, 1, 1)]}
    seen = set()
    try:
        for _ in range(12):
            facts = {f: rng.choice(v) for f, v in pools.items() if rng.random() > 0.2}
            applicant = api.Applicant(path="<test>", sha256="", id="t", name="t")
            api.apply_overrides(applicant, prog, facts)
            report = find_flips(prog, applicant, durable=ev, max_changes=2)
            seen.add(report.verdict)
            for flip in report.flips:
                got = ev.evaluate(_apply(applicant, prog, flip.changes), trace=False).verdict
                assert got == flip.verdict and got in report.targets
                for c in flip.changes:
                    rest = [d for d in flip.changes if d is not c]
                    assert ev.evaluate(_apply(applicant, prog, rest), trace=False).verdict not in report.targets
    finally:
        ev.close()
    assert len(seen) >= 2
