"""`decision.rank_by`: the keys read with their order, and every mistake refused at file:line:col."""
import os

import pytest

from helpers import ROOT
from eligibility.language.rules import check_program
from eligibility.language.model import RankKey

EXAMPLE = os.path.join(ROOT, "examples", "innovation-voucher", "rules.yaml")
DECISION = "  rank_by: [score, {key: cofinancing_share, order: desc}, name]"


def loaded(rank_by: str, extra: str = ""):
    """The example rules with the decision's rank_by line replaced: (program or None, errors)."""
    text = open(EXAMPLE, encoding="utf-8").read()
    assert DECISION in text
    text = text.replace(DECISION, rank_by + extra)
    program, problems = check_program(EXAMPLE, text=text)
    line = text.splitlines().index(rank_by.splitlines()[0]) + 1
    return program, [(p.line - line, p.col, p.message) for p in problems.errors], [p for p in problems.items if p.severity != "error"]


def test_keys_with_natural_and_written_orders_and_id_last():
    program, errors, _ = loaded("  rank_by: [score, {key: cofinancing_share, order: asc}, {key: weighted_mark, order: desc}]")
    assert errors == []
    assert [(k.key, k.order) for k in program.decision.rank_by] == [
        ("score", "desc"), ("cofinancing_share", "asc"), ("weighted_mark", "desc"), ("id", "asc")]
    assert program.decision.value_keys == ("cofinancing_share", "weighted_mark")
    assert program.decision.tie_breaks == ()


def test_the_shipped_example_ranks_by_cofinancing_then_name():
    program, errors, _ = loaded(DECISION)
    assert errors == [] and program.decision.rank_by == (
        RankKey("score", True), RankKey("cofinancing_share", True), RankKey("name", False), RankKey("id", False))


@pytest.mark.parametrize("rank_by, col, message", [
    ("  rank_by: [score, {key: cofinancing_shar, order: desc}]", 26,
     "decision: rank_by key 'cofinancing_shar' is not score, criteria_order, gates_met, name, id, a fact or a "
     "computed value (did you mean 'cofinancing_share'?)"),
    ("  rank_by: [score, cofinancing_share]", 20,
     "decision: rank_by key 'cofinancing_share' needs an order: write {key: cofinancing_share, order: desc} "
     "(highest first) or order: asc (lowest first)"),
    ("  rank_by: [score, {key: cofinancing_share, order: highest}]", 52,
     "decision: rank_by order must be desc (highest first) or asc (lowest first), got 'highest'"),
    ("  rank_by: [{key: country, order: asc}]", 19,
     "decision: rank_by key 'country' has type enum: only numbers and dates rank applicants"),
    ("  rank_by: [score, {key: name, order: desc}]", 26,
     "decision: rank_by key 'name' sorts alphabetically: write order: asc or leave it out"),
    ("  rank_by: [score, gates_met, score]", 31, "decision: rank_by lists 'score' twice"),
    ("  rank_by: []", 12, "decision: rank_by lists at least one key, e.g. [score, name]"),
    ("  rank_by: [score, 3]", 20, "decision: each rank_by item is a key's name or {key: NAME, order: desc|asc}"),
])
def test_mistakes_are_refused_at_their_place(rank_by, col, message):
    program, errors, _ = loaded(rank_by)
    assert program is None and errors == [(0, col, message)]


def test_rank_by_and_tie_breaks_together_are_refused():
    program, errors, _ = loaded(DECISION, "\n  tie_breaks: [name]")
    assert program is None
    assert errors == [(1, 3, "decision: give either 'rank_by' or 'tie_breaks', not both "
                             "(rank_by lists every key, score included)")]


def test_a_fact_read_only_by_the_ranking_is_not_reported_unused():
    text = open(EXAMPLE, encoding="utf-8").read()
    text = text.replace("facts:\n", "facts:\n  founded: {type: date, description: Date the firm was founded.}\n", 1)
    plain, problems = check_program(EXAMPLE, text=text)
    assert any("fact 'founded' is declared but no condition reads it" in w.message for w in [p for p in problems.items if p.severity != "error"])
    ranked, problems = check_program(EXAMPLE, text=text.replace(DECISION, "  rank_by: [score, {key: founded, order: asc}]"))
    assert ranked is not None and not any("'founded'" in w.message for w in [p for p in problems.items if p.severity != "error"])


def test_the_cli_names_the_file_line_and_column(run_cli, tmp_path):
    text = open(EXAMPLE, encoding="utf-8").read().replace("key: cofinancing_share", "key: cofinancing")
    bad = tmp_path / "rules.yaml"
    bad.write_text(text, encoding="utf-8")
    line = text.splitlines().index(DECISION.replace("key: cofinancing_share", "key: cofinancing")) + 1
    r = run_cli("batch", os.path.join(ROOT, "examples", "innovation-voucher", "applicants"), "--rules", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{bad}:{line}:26: decision: rank_by key 'cofinancing' is not" in r.stderr
    assert "(did you mean 'cofinancing_share'?)" in r.stderr
