"""The condition language: parsing, type checking, and errors with file:line:col."""
import pytest

from eligibility.core.errors import InputError
from eligibility.language.expr import And, ExprError, Has, Not, OneOf, Or, Ref, Scope, parse_condition
from eligibility.language.model import FactSpec, Parameter
from eligibility.language.rules import check_program, load_program

from helpers import RULES, with_versions

FACTS = {
    "n": FactSpec("n", "int"), "ok": FactSpec("ok", "bool"), "x": FactSpec("x", "float"),
    "dep": FactSpec("dep", "enum", values=("none", "heavy")), "tags": FactSpec("tags", "list"),
    "name": FactSpec("name", "string"), "when": FactSpec("when", "date"),
}
SCOPE = Scope(FACTS, {"good": True}, {"min_n": Parameter("min_n", "int", 2)})


def parse(text):
    return parse_condition(text, SCOPE)


def test_nodes_and_normalisation():
    node = parse('ok and n >= min_n or not good')
    assert isinstance(node, Or) and isinstance(node.items[0], And) and isinstance(node.items[1], Not)
    cmp = node.items[0].items[1]
    assert (cmp.fact, cmp.op, cmp.value, cmp.param) == ("n", ">=", 2, "min_n")
    mirrored = parse("3 < n")
    assert (mirrored.fact, mirrored.op, mirrored.value) == ("n", ">", 3)
    chain = parse("0 < n <= 5")
    assert isinstance(chain, And) and [c.op for c in chain.items] == [">", "<="]
    assert isinstance(parse('"a" in tags'), Has) and parse('"a" not in tags').negated
    one = parse('dep in ["none", "heavy"]')
    assert isinstance(one, OneOf) and one.values == ("none", "heavy")
    assert isinstance(parse("good == false"), Ref) and parse("good == false").negated
    assert parse('when >= "2025-08-04"').value.isoformat() == "2025-08-04"
    assert parse("ok").op == "==" and parse("ok").value is True


@pytest.mark.parametrize("text, message", [
    ("nn > 1", "unknown fact 'nn' (did you mean 'n'?)"),
    ('n >= "two"', "type mismatch: 'n' is int"),
    ('dep == "heavyy"', "did you mean 'heavy'"),
    ("ok > 1", "'>' needs a number or date"),
    ("n is 1", "'is' tests for none or known only"),
    ("n is none", "fact 'n' is never none: declare it 'optional: true'"),
    ("__import__('os').system('id')", "function calls are not allowed"),
    ("().__class__.__bases__", "attribute access"),
    ("n[0] > 1", "subscripts"),
    ("[c for c in tags]", "comprehensions"),
    ("(lambda: 1)()", "function calls"),
    ("f'{n}' == 'a'", "f-strings"),
    ("n ** 2 > 2", "this arithmetic is not allowed"),
    ("n > min_nn", "unknown name 'min_nn' (did you mean 'min_n'?)"),
    ("n + when > 2", "cannot apply '+' to a whole number and a date"),
    ("n > when", "type mismatch: cannot compare a whole number ('n') with a date ('when')"),
    ("n / 0 > 1", "division by zero"),
    ("when - when > 1", "days_between"),
    ("maxx(n, 1) > 1", "function calls are not allowed except min, max"),
    ("round(n, 9) > 1", "round()'s digits"),
    ("count(n) > 1", "count() needs a list fact"),
    ("n + good > 1", "concept 'good' is true or false, not a value"),
    ("n + 1", "is not a condition: compare it"),
    ("n >", "syntax error"),
    ('"a" in name', "needs a list fact"),
    ("min_n", "is not a condition"),
    ("1", "is not a condition"),
])
def test_rejected(text, message):
    with pytest.raises(ExprError) as err:
        parse(text)
    assert message in err.value.message


def test_limits_long_and_deep():
    with pytest.raises(ExprError, match="characters long"):
        parse(" or ".join(["ok"] * 2000))
    assert parse("(" * 100 + "ok" + ")" * 100).fact == "ok"     # redundant parentheses are harmless
    with pytest.raises(ExprError, match="syntax error|nested too deeply"):
        parse("(" * 1000 + "ok" + ")" * 1000)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("not " * 60 + "ok")


def _broken(tmp_path, old, new):
    text = open(RULES, encoding="utf-8").read()
    assert old in text, old
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with_versions(tmp_path)
    return str(path), text.replace(old, new)


@pytest.mark.parametrize("old, new, message", [
    ('foreign_partner_dependency != "heavy"', 'foriegn_partner_dependency != "heavy"',
     "unknown fact 'foriegn_partner_dependency' (did you mean 'foreign_partner_dependency'?)"),
    ("model_generations >= min_generations", 'model_generations >= "two"', "type mismatch"),
    ("condition: open_weights_released", "condition: __import__('os').system('id')", "function calls"),
    ('foreign_partner_dependency != "heavy"', 'foreign_partner_dependency <> "heavy"', "syntax error"),
])
def test_rules_file_errors_have_line_and_column(tmp_path, old, new, message):
    path, text = _broken(tmp_path, old, new)
    with pytest.raises(InputError) as err:
        load_program(path)
    problem = err.value.problems[0]
    assert message in problem.message
    line = text.splitlines()[problem.line - 1]
    condition = new.removeprefix("condition: ")
    assert condition in line
    start = line.index(condition) + 1
    # the column points into the condition, at or after its start
    assert start <= problem.col <= start + len(condition)


def test_shipped_rules_load_cleanly():
    program, problems = check_program(RULES)
    assert program is not None and not problems.errors
    assert [c.id for c in program.criteria][:2] == ["autonomy", "foreign_independence"]
    assert program.decision.quota == 5


def test_param_override_and_unknown_param():
    assert load_program(RULES, {"quota": "3"}).decision.quota == 3
    with pytest.raises(InputError, match="no such parameter"):
        load_program(RULES, {"qouta": "3"})
    with pytest.raises(InputError, match="not a valid int"):
        load_program(RULES, {"quota": "three"})
