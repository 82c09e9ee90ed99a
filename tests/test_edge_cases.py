"""Edge cases found in review: exact decimal scores, non-finite numbers, unwritable outputs, CSV quirks."""
import json

import pytest

from eligibility.api import Evaluator
from eligibility.errors import InputError
from eligibility.model import Applicant, FactValue
from eligibility.rulesfile import load_program

from conftest import RULES

DECIMAL_RULES = """
program: {id: dec, title: decimals, sources: [{id: s, title: s}]}
facts: {a: {type: bool}, b: {type: bool}}
parameters: {thr: {type: float, value: 0.8}}
criteria:
  - {id: a, kind: scored, points: 0.7, condition: a, source: {ref: s, clause: x}}
  - {id: b, kind: scored, points: 0.1, condition: b, source: {ref: s, clause: x}}
decision: {threshold: thr}
"""


def applicant(**facts):
    return Applicant(path="x", sha256="", id="x", name="X",
                     history={k: (FactValue(v, ()),) for k, v in facts.items()})


def test_points_that_add_up_to_the_threshold_reach_it():
    program = load_program("dec.yaml", text=DECIMAL_RULES)
    ev = Evaluator(program).evaluate(applicant(a=True, b=True))
    assert ev.score == 0.8 and ev.verdict == "selected", ev.reason
    assert Evaluator(program).evaluate(applicant(a=True, b=False)).verdict == "excluded"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_parameters_are_refused(value):
    with pytest.raises(InputError, match="not a valid float"):
        load_program("dec.yaml", {"thr": value}, text=DECIMAL_RULES)
    with pytest.raises(InputError, match="not a valid int"):
        load_program(RULES, {"quota": value})


def test_non_finite_numbers_in_the_rules_file_are_refused():
    with pytest.raises(InputError, match="thr"):
        load_program("dec.yaml", text=DECIMAL_RULES.replace("value: 0.8", "value: .nan"))
    with pytest.raises(InputError, match="finite number"):
        load_program("dec.yaml", text=DECIMAL_RULES.replace("points: 0.7", "points: .inf"))


def test_output_to_a_directory_or_unwritable_place_is_a_clean_error(run_cli, tmp_path):
    for cmd in (["check", "applicants/kt.yaml", "-f", "json"], ["batch", "-f", "csv"], ["report"]):
        r = run_cli(*cmd, "-o", str(tmp_path))
        assert r.returncode == 2 and "Traceback" not in r.stderr, (cmd, r.stderr)
        assert f"{tmp_path}: cannot write output: it is a directory" in r.stderr


def test_csv_with_byte_order_mark_and_repeated_columns(run_cli, tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffid,name,foreign_partner_dependency\nx1,X,heavy\n".encode("utf-8"))
    r = run_cli("batch", str(bom), "-f", "json")
    assert r.returncode == 0, r.stderr
    (rec,) = json.loads(r.stdout)["applicants"]
    assert rec["applicant"]["id"] == "x1" and rec["verdict"] == "excluded"
    twice = tmp_path / "twice.csv"
    twice.write_text("id,model_generations,model_generations\nx1,1,5\n", encoding="utf-8")
    r = run_cli("batch", str(twice), "-f", "json")
    assert r.returncode == 1
    assert f"{twice}:1:2: CSV header repeats column(s) 'model_generations'" in r.stderr
