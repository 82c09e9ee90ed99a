"""Condition injection attempts are refused at load with `file:line:col`, and nothing is ever evaluated."""
import builtins
import os

import pytest

from eligibility.api import Evaluator
from eligibility.core.errors import InputError
from eligibility.language.semantics import evaluate_nodes
from eligibility.language.rules import load_program

from helpers import DATA

ALL_OPS = os.path.join(DATA, "all_ops.yaml")
TEMPLATE = open(ALL_OPS, encoding="utf-8").read()
SLOT = "'not (b and c) or e == \"high\"'"
LINE = next(i for i, line in enumerate(TEMPLATE.splitlines(), 1) if SLOT in line)
COL = TEMPLATE.splitlines()[LINE - 1].index(SLOT) + 2      # first character inside the quotes

HOSTILE = [
    ("__import__('os').system('id')", "function calls are not allowed", 0),
    ("().__class__.__bases__", "attribute access", 0),
    ("b.__class__ == 1", "attribute access", 0),
    ("__class__ == 1", "unknown fact '__class__'", 0),
    ("__builtins__", "unknown fact", 0),
    ("eval('1 == 1')", "function calls", 0),
    ("exec('import os')", "function calls", 0),
    ("compile('1', 'x', 'eval')", "function calls", 0),
    ("open('/etc/passwd')", "function calls", 0),
    ("lambda: b", "lambdas", 0),
    ("(lambda: b)()", "function calls", 0),
    ("(b := True)", "assignment", 1),
    ("[x for x in l]", "comprehensions", 0),
    ("any(x for x in l)", "function calls", 0),
    ("f'{b}' == s", "f-strings", 0),
    ("s == f'{b}'", "f-strings", 5),
    ("b[0]", "subscripts", 0),
    ("i == 10 ** 100", "arithmetic", 5),
    ("i == 1e400", "out of range", 5),
    ("i == " + "9" * 3000, "out of range", 5),
    ("'a' if b else 'c'", "conditional", 0),
    ("{'a': 1} == s", "dictionaries", 0),
    ("b; import os", "syntax error", 1),
    ("import os", "syntax error", 0),
    ("b" * 100_000, "characters long", 0),
    ("(" * 1000 + "b" + ")" * 1000, "too many nested parentheses", None),
    ("not " * 990 + "b", "nested too deeply", None),
    ("-" * 3000 + "1 == i", "nested too deeply", 0),
    (" and ".join(["b"] * 790), "characters long", 0),
    (" or ".join(["i == 1"] * 350), "tests (limit", 0),
    ("ｂ", "must be written in ASCII", 0),                          # full-width b, NFKC-folded to 'b' by Python
    ("i == 1 and ｂ", "must be written in ASCII", 11),
    ("ｅｖａｌ('1')", "must be written in ASCII", None),
    ("b\u0301 == true", "must be written in ASCII", 0),              # combining accent
    ("\u0430 == true", "must be written in ASCII", 0),               # Cyrillic a
    ("b\u200b", "invalid", None),                                   # zero-width space
]


def load_with(condition: str):
    quoted = "'" + condition.replace("'", "''") + "'"
    return load_program("hostile.yaml", text=TEMPLATE.replace(SLOT, quoted))


@pytest.mark.parametrize("condition,fragment,offset", HOSTILE, ids=[h[1] + "-" + h[0][:20] for h in HOSTILE])
def test_injection_refused_at_load(condition, fragment, offset):
    with pytest.raises(InputError) as info:
        load_with(condition)
    (problem,) = info.value.problems
    assert problem.path == "hostile.yaml" and problem.line == LINE, str(problem)
    assert fragment in problem.message, str(problem)
    assert len(str(problem)) < 400 and "\n" not in str(problem)
    if offset is not None and "'" not in condition:
        assert problem.col == COL + offset, str(problem)


def test_leading_underscore_names_are_refused():
    text = TEMPLATE.replace("  b: {type: bool}", "  __class__: {type: bool}\n  b: {type: bool}")
    with pytest.raises(InputError, match=r"hostile.yaml:\d+:3: fact: invalid name '__class__'"):
        load_program("hostile.yaml", text=text)


def test_cli_refuses_injection(run_cli, tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(TEMPLATE.replace(SLOT, "'__import__(\"os\").system(\"touch PWNED\")'"))
    result = run_cli("check", str(tmp_path / "nope.yaml"), "--rules", str(path), cwd=str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{path}:{LINE}:{COL}: criterion 'g1': function calls are not allowed" in result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_eval_exec_compile_never_called(monkeypatch):
    """Loading, compiling and evaluating (both engines) never evaluate text. ast.parse may compile to an AST only."""
    import ast
    real_compile = builtins.compile
    calls = []

    def forbidden(name):
        def raiser(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} called")
        return raiser

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            calls.append("compile")
            raise AssertionError("compile to bytecode")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    Evaluator(load_program(ALL_OPS), engine="both").close()     # lazy imports happen before the patch
    monkeypatch.setattr(builtins, "eval", forbidden("eval"))
    monkeypatch.setattr(builtins, "exec", forbidden("exec"))
    monkeypatch.setattr(builtins, "compile", ast_only_compile)
    program = load_program(ALL_OPS)
    evaluator = Evaluator(program, engine="both")
    try:
        values = {"b": True, "i": 4, "e": "low", "s": "z", "l": ("red",), "free": ("x",), "x": 0.25}
        outcomes = evaluator.run(values).outcomes()
        assert outcomes == evaluate_nodes(program, values)
    finally:
        evaluator.close()
    assert calls == []
