"""The example programme (examples/innovation-voucher): its rule tests pass, `check` shows the
weighted mark with its arithmetic, a mark outside its range is refused with file:line:col, and
the engines agree on random profiles with none, unknown and boundary values."""
import os
import random

import pytest

from eligibility.api import Evaluator
from eligibility.language.numeric import NONE
from eligibility.language.rules import load_program
from eligibility.language.semantics import evaluate_nodes

from helpers import ROOT

EXAMPLE = os.path.join(ROOT, "examples", "innovation-voucher")
RULES = os.path.join(EXAMPLE, "rules.yaml")


def test_rule_tests_pass(run_cli):
    r = run_cli("test", os.path.join(EXAMPLE, "rules.tests.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failed" in r.stdout


def test_check_shows_the_weighted_mark_with_its_arithmetic(run_cli):
    r = run_cli("check", os.path.join(EXAMPLE, "applicants", "alba.yaml"), "--rules", RULES)
    assert r.returncode == 0, r.stderr
    assert "weighted_mark = 4 x 9 + 3 x 8 + 3 x 8 = 84 >= 60" in r.stdout


def test_mark_outside_its_range_is_refused_with_its_place(run_cli, tmp_path):
    text = open(os.path.join(EXAMPLE, "applicants", "alba.yaml"), encoding="utf-8").read()
    assert "innovation: {value: 9," in text
    bad = tmp_path / "alba.yaml"
    bad.write_text(text.replace("innovation: {value: 9,", "innovation: {value: 11,"), encoding="utf-8")
    line = next(i for i, l in enumerate(bad.read_text().splitlines(), 1) if l.startswith("  innovation:"))
    r = run_cli("check", str(bad), "--rules", RULES)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"eligibility: error: {bad}:{line}:23: fact 'innovation': 11 is outside its range [0, 10] points"
    r = run_cli("check", os.path.join(EXAMPLE, "applicants", "alba.yaml"), "--rules", RULES, "--set", "team=11")
    assert r.returncode == 2 and "team=11: outside its range [0, 10] points" in r.stderr


def random_values(rng, program):
    """Boundary-heavy values: range ends, the parameters' thresholds, none, and unknown (left out)."""
    choices = {
        "employees": [1, 248, 249, 250, 100000], "turnover_meur": [0, 49.99, 50.0, 50.01],
        "country": list(program.facts["country"].values),
        "last_voucher": [NONE, "2023-03-30", "2023-03-31", "2023-04-01", "2026-03-31", "0001-01-01", "9999-12-31"],
        "cofinancing_share": [0, 0.2499, 0.25, 0.4, 1], "innovation": [0, 1, 5, 9, 10],
        "impact": [0, 6, 10], "team": [0, 6, 10],
    }
    import datetime as dt
    out = {}
    for name, pool in choices.items():
        if rng.random() < 0.15:
            continue
        value = rng.choice(pool)
        out[name] = dt.date.fromisoformat(value) if name == "last_voucher" and value is not NONE else value
    return out


def test_engines_agree_on_random_profiles():
    program = load_program(RULES)
    durable, python = Evaluator(program, "durable"), Evaluator(program, "python")
    rng = random.Random(7)
    for _ in range(3000):
        values = random_values(rng, program)
        reference = evaluate_nodes(program, values)
        assert durable.run(values).outcomes() == reference, values
        assert python.run(values).outcomes() == reference, values
    durable.close()


def test_rule_tests_report_wrong_rank_final_and_computed(run_cli, tmp_path):
    tests = tmp_path / "wrong.tests.yaml"
    tests.write_text(f"""rules: {RULES}
cases:
  - name: wrong expectations
    profile: {EXAMPLE}/applicants/gamma.yaml
    population:
      - {{profile: {EXAMPLE}/applicants/alba.yaml}}
      - {{profile: {EXAMPLE}/applicants/brightwave.yaml}}
      - {{profile: {EXAMPLE}/applicants/helix.yaml}}
    expect: {{rank: 3, final: selected, computed: {{weighted_mark: 70}}, provisional: true}}
""")
    r = run_cli("test", str(tests), "--format", "json")
    assert r.returncode == 1, r.stderr
    import json
    (case,) = json.loads(r.stdout)["cases"]
    got = {m["field"]: (m["expected"], m["actual"]) for m in case["mismatches"]}
    assert got["rank"] == (3, 4)
    assert got["final"][0] == "selected" and got["final"][1].startswith("eligible-not-selected")
    assert got["computed.weighted_mark"] == (70, "69")        # 4 x 6 + 3 x 7 + 3 x 8
    assert got["provisional"] == (True, "not provisional")


def test_check_shows_the_computed_score_with_its_arithmetic_and_evidence(run_cli):
    alba = os.path.join(EXAMPLE, "applicants", "alba.yaml")
    r = run_cli("check", alba, "--rules", RULES)
    assert r.returncode == 0, r.stderr
    assert "score 44 = 24 (panel_mark) + 20 (excellent)" in r.stdout
    import json
    rec = json.loads(run_cli("check", alba, "--rules", RULES, "-f", "json").stdout)
    panel = next(c for c in rec["trace"]["criteria"] if c["id"] == "panel_mark")
    assert panel["points_formula"] == "max(0, weighted_mark - pass_mark)"
    assert panel["points_worked"] == "max(0, 84 - 60) = 24; weighted_mark = 4 x 9 + 3 x 8 + 3 x 8 = 84"
    assert panel["points_because"] == ["innovation is 9 (official, 2026-03-20)", "impact is 8 (official, 2026-03-20)",
                                       "team is 8 (official, 2026-03-20)"]
    assert (panel["awarded"], panel["points"], rec["score"], rec["score_max"]) == (24, 24, 44, 44)
    open_team = json.loads(run_cli("check", alba, "--rules", RULES, "--set", "team=unknown", "-f", "json").stdout)
    panel = next(c for c in open_team["trace"]["criteria"] if c["id"] == "panel_mark")
    assert panel["points_worked"].endswith("between 0 and 30 over the declared ranges of team")
    assert (panel["outcome"], panel["awarded"], panel["points"]) == ("unknown", 0, 30)


def _panel_points(marks):
    """The example's panel points, written out independently of the rules file."""
    return max(0, 4 * marks["innovation"] + 3 * marks["impact"] + 3 * marks["team"] - 60)


def test_points_agree_across_engines_and_with_the_formula():
    """Durable, python and the reference (node outcomes by semantics, points by the shared
    evaluator) give the same assessment; known marks give the formula's points, unknown ones
    an "up to" equal to the best completion of the marks (found by trying every one)."""
    import itertools
    from eligibility.evaluate.assess import assess
    from eligibility.evaluate.points import criterion_points
    from eligibility.language.model import Applicant, FactValue
    program = load_program(RULES)
    engines = [Evaluator(program, name) for name in ("durable", "python")]
    rng = random.Random(15)
    marks = ("innovation", "impact", "team")
    for _ in range(1500):
        values = random_values(rng, program)
        applicant = Applicant("r.yaml", "", "r", "R", history={k: (FactValue(v, ()),) for k, v in values.items()})
        durable, python = (e.evaluate(applicant, trace=False) for e in engines)
        reference = assess(program, evaluate_nodes(program, values), criterion_points(program, values))
        for ev in (durable, python):
            assert (ev.verdict, ev.score, ev.score_max, ev.assessment.awarded) == \
                   (reference.verdict, reference.score, reference.score_max, reference.awarded), values
        panel = next(r for r in reference.criteria if r.id == "panel_mark")
        unknown = [m for m in marks if m not in values]
        if not unknown:
            assert panel.points == _panel_points(values)
            assert panel.awarded == (_panel_points(values) if panel.outcome == "met" else 0)
        else:
            best = max(_panel_points({**values, **dict(zip(unknown, combo))})
                       for combo in itertools.product(range(11), repeat=len(unknown)))
            assert (panel.outcome, panel.awarded, panel.points) == ("unknown", 0, best), values
    for e in engines:
        e.close()


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_replay_of_a_batch_ranked_by_a_fact_is_identical(run_cli, tmp_path, fmt):
    """Replay ranks the recorded applicants again by their recorded rank_keys: the same placement
    and provisional verdicts."""
    out = tmp_path / f"batch.{fmt}"
    r = run_cli("batch", f"{EXAMPLE}/applicants", "--rules", RULES, "-f", fmt, "-o", str(out))
    assert r.returncode == 0, r.stderr
    replayed = run_cli("replay", str(out))
    assert replayed.returncode == 0, replayed.stdout
    assert "10 of 10 result(s) identical" in replayed.stdout
