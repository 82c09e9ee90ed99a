"""The condition language: a small, typed expression language parsed into our own nodes.

Python's `ast` module tokenises and parses the text; only a whitelist of node types is
accepted, and every name is resolved against the rules file's fact schema, concepts and
parameters. Nothing is ever evaluated by Python: the result is a tree of the node
classes below, which the compiler and the reference evaluator walk.
"""
from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from eligibility.language.arith import ValueBinder, compare_types
from eligibility.language.exprbase import ExprError, suggest
from eligibility.language.numeric import TODAY, Expr, facts_of, uses_today

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_LIST = 200
MAX_LEAVES = 200

ORDER_OPS = ("<", "<=", ">", ">=")
_AST_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.In: "in", ast.NotIn: "not in"}
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_SINGULAR = {"attribute access", "arithmetic", "assignment", "await", "yield"}
_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False}
_UNSUPPORTED = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts",
    ast.Lambda: "lambdas", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.JoinedStr: "f-strings",
    ast.IfExp: "conditional expressions", ast.NamedExpr: "assignment",
    ast.Dict: "dictionaries", ast.Set: "sets", ast.Starred: "starred expressions",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
}


@dataclass(eq=False)
class Node:
    """A node of a parsed condition. `text` is the source of this node; `id` is set by the loader."""

    offset: int
    text: str
    id: int = field(default=-1, init=False)
    line: int = field(default=0, init=False)     # position in the rules file, set by the loader
    col: int = field(default=0, init=False)

    def children(self) -> tuple["Node", ...]:
        return ()

    def walk(self) -> Iterator["Node"]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(eq=False)
class Cmp(Node):
    """`fact OP value`. For `!=` the engine tests equality and swaps the outcomes."""

    fact: str = ""
    op: str = "=="
    value: Any = None
    param: str = ""                  # the parameter `value` came from, if any


@dataclass(eq=False)
class OneOf(Node):
    """`fact in [v1, v2, ...]` (or `not in`)."""

    fact: str = ""
    values: tuple = ()
    negated: bool = False
    param: str = ""                  # the list parameter the values came from, if any


@dataclass(eq=False)
class Has(Node):
    """`"item" in list_fact` (or `not in`)."""

    fact: str = ""
    item: str = ""
    negated: bool = False


@dataclass(eq=False)
class Compare(Node):
    """`left OP right` between two typed value expressions (language/numeric.py): arithmetic,
    fact with fact, fact with a computed value. Unknown when either side has no value."""

    left: Expr = None  # type: ignore[assignment]
    op: str = "=="
    right: Expr = None  # type: ignore[assignment]

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(facts_of(self.left) + facts_of(self.right)))

    @property
    def fact(self) -> str:
        """The first fact read (code that names one fact per test); `facts` has them all."""
        return (self.facts or ("",))[0]


@dataclass(eq=False)
class IsTest(Node):
    """`fact is none` / `fact is known` (or `is not`). `is known` is never unknown: it is true
    when the fact has a value, none included, and false when it is unknown."""

    fact: str = ""
    test: str = "none"             # "none" or "known"
    negated: bool = False


@dataclass(eq=False)
class Ref(Node):
    """A reference to a derived concept; `negated` for `concept == false`."""

    concept: str = ""
    negated: bool = False


@dataclass(eq=False)
class And(Node):
    items: tuple[Node, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(eq=False)
class Or(Node):
    items: tuple[Node, ...] = ()

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(eq=False)
class Not(Node):
    item: Node | None = None

    def children(self) -> tuple[Node, ...]:
        return (self.item,) if self.item is not None else ()


Leaf = (Cmp, OneOf, Has, Compare, IsTest)


@dataclass(frozen=True)
class Scope:
    """What names a condition may use: facts (name -> FactSpec), concepts, parameters."""

    facts: Mapping[str, Any]
    concepts: Mapping[str, Any]
    parameters: Mapping[str, Any]
    computed: Mapping[str, Expr] = field(default_factory=dict)     # computed value name -> its expression

    def all_names(self) -> list[str]:
        return [*self.facts, *self.concepts, *self.parameters, *self.computed]


def parse_condition(text: str, scope: Scope) -> Node:
    """Parse and type-check `text` against `scope`. Raises ExprError with an offset into `text`."""
    tree, text = _syntax_tree(text, "condition")
    binder = _Binder(text, scope)
    node = binder.bool_expr(tree.body, 0)
    if binder.leaves > MAX_LEAVES:
        raise ExprError(0, f"condition has {binder.leaves} tests (limit {MAX_LEAVES}); split it into concepts")
    return node


def parse_value(text: str, scope: Scope, what: str = "a computed value") -> Expr:
    """Parse a value expression (a computed value, or points: a number or a date) against `scope`."""
    tree, text = _syntax_tree(text, "formula")
    expr = ValueBinder(text, scope).value(tree.body)
    if expr.type not in ("int", "float", "date"):
        raise ExprError(0, f"{what} is a number or a date; '{text}' is not")
    return expr


def _syntax_tree(text: str, what: str) -> tuple[ast.Expression, str]:
    """Python's syntax tree of `text` (only parsed, never run), checked for size, depth and
    look-alike names; and the text its offsets refer to."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError(0, f"{what} is empty")
    if len(text) > MAX_LENGTH:
        raise ExprError(0, f"{what} is {len(text)} characters long (limit {MAX_LENGTH})")
    # Newlines and leading blanks become spaces inside parentheses: offsets stay valid.
    source = "(" + text.replace("\n", " ").replace("\r", " ") + ")"
    text = source[1:-1]
    try:
        tree = ast.parse(source, mode="eval")
        _shift(tree, -1)
    except SyntaxError as exc:
        offset = min(max((exc.offset or 1) - 2, 0), len(text))
        raise ExprError(offset, f"syntax error: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError(0, f"{what} is nested too deeply (limit {MAX_DEPTH})") from None
    except ValueError as exc:
        raise ExprError(0, f"invalid {what}: {exc}") from None
    if _depth(tree.body) > MAX_DEPTH + 8:  # (+ compare, name, context) the same answer on every Python
        raise ExprError(0, f"{what} is nested too deeply (limit {MAX_DEPTH})")
    for name in ast.walk(tree):
        # Python folds look-alike letters (NFKC: full-width 'ｂ' is 'b'): refuse anything not written as read.
        if isinstance(name, ast.Name) and (not name.id.isascii() or ast.get_source_segment(text, name) != name.id):
            shown = ast.get_source_segment(text, name) or name.id
            raise ExprError(name.col_offset, f"name {shown!r} must be written in ASCII letters, digits and _")
    return tree, text


class _Binder:
    def __init__(self, text: str, scope: Scope):
        self.text = text
        self.scope = scope
        self.leaves = 0

    def src(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    def off(self, node: ast.AST) -> int:
        return getattr(node, "col_offset", 0)

    def unsupported(self, node: ast.AST) -> ExprError:
        what = _UNSUPPORTED.get(type(node), f"'{type(node).__name__}' expressions")
        return ExprError(self.off(node), f"{what} {'is' if what in _SINGULAR else 'are'} not allowed in conditions")

    def bool_expr(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ExprError(self.off(node), f"condition is nested too deeply (limit {MAX_DEPTH})")
        off, text = self.off(node), self.src(node)
        if isinstance(node, ast.BoolOp):
            items = tuple(self.bool_expr(v, depth + 1) for v in node.values)
            return (And if isinstance(node.op, ast.And) else Or)(off, text, items=items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(off, text, item=self.bool_expr(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            return self.truth(node, text)
        if isinstance(node, ast.Constant):
            raise ExprError(off, f"a constant ({text}) is not a condition")
        if isinstance(node, ast.Call):
            ValueBinder(self.text, self.scope).value(node)       # a call not allowed is reported as such
        if isinstance(node, (ast.BinOp, ast.Call, ast.UnaryOp)):
            raise ExprError(off, f"a value ({text}) is not a condition: compare it, e.g. {text} >= 10")
        raise self.unsupported(node)

    def truth(self, node: ast.Name, text: str, negated: bool = False) -> Node:
        name, off = node.id, node.col_offset
        if name in self.scope.concepts:
            return Ref(off, text, concept=name, negated=negated)
        spec = self.scope.facts.get(name)
        if spec is not None:
            if spec.type != "bool":
                raise ExprError(off, f"fact '{name}' is {spec.type}, not bool: compare it to a value")
            self.leaves += 1
            return Cmp(off, text, fact=name, op="!=" if negated else "==", value=True)
        if name in self.scope.parameters:
            raise ExprError(off, f"parameter '{name}' is not a condition: compare a fact to it")
        raise ExprError(off, f"unknown fact '{name}'" + suggest(name, self.scope.all_names()))

    def compare(self, node: ast.Compare) -> Node:
        if len(node.ops) > 1:      # a < b <= c  ->  (a < b) and (b <= c)
            lefts = [node.left, *node.comparators[:-1]]
            items = []
            for left, op, right in zip(lefts, node.ops, node.comparators):
                pair = ast.Compare(left=left, ops=[op], comparators=[right])
                ast.copy_location(pair, left)
                pair.end_col_offset = right.end_col_offset
                items.append(self.compare(pair))
            return And(node.col_offset, self.src(node), items=tuple(items))
        op_type = type(node.ops[0])
        if op_type in (ast.Is, ast.IsNot):
            return self.is_test(node, op_type is ast.IsNot)
        if op_type not in _AST_OPS:
            raise ExprError(node.col_offset, f"operator '{type(node.ops[0]).__name__}' is not allowed "
                            "(use ==, !=, <, <=, >, >=, in, not in)")
        op, left, right = _AST_OPS[op_type], node.left, node.comparators[0]
        for side in (left, right):
            if type(side) in _UNSUPPORTED:
                raise self.unsupported(side)
        text, off = self.src(node), node.col_offset
        if op in ("in", "not in"):
            return self.membership(left, right, op == "not in", off, text)
        if self.is_value_comparison(left, right):
            return self.value_comparison(left, op, right, off, text)
        left_is_name = isinstance(left, ast.Name) and left.id not in _LITERAL_NAMES
        right_is_name = isinstance(right, ast.Name) and right.id not in _LITERAL_NAMES
        if left_is_name and right_is_name and right.id not in self.scope.parameters:
            if left.id in self.scope.parameters:
                left, right, op = right, left, _MIRROR[op]
            else:
                raise ExprError(off, "comparing two facts is not supported: compare a fact to a value or parameter")
        elif not left_is_name:
            if not right_is_name:
                raise ExprError(off, "a comparison needs a fact on one side")
            left, right, op = right, left, _MIRROR[op]
        if left.id in self.scope.concepts:
            if op not in ("==", "!=") or self.constant(right)[0] not in (True, False):
                raise ExprError(off, f"concept '{left.id}' is true or false: compare it with == true/false")
            value = self.constant(right)[0]
            return Ref(off, text, concept=left.id, negated=(value is False) == (op == "=="))
        spec = self.fact_spec(left)
        value, param = self.constant(right)
        value = self.check_value(spec, op, value, right, param)
        self.leaves += 1
        return Cmp(off, text, fact=spec.name, op=op, value=value, param=param)

    def is_test(self, node: ast.Compare, negated: bool) -> Node:
        left, right, off = node.left, node.comparators[0], node.col_offset
        if not (isinstance(right, ast.Name) and right.id in ("none", "known")):
            raise ExprError(self.off(right), "'is' tests for none or known only: write 'fact is none', "
                                             "'fact is not none', 'fact is known' or 'fact is not known'")
        spec = self.fact_spec(left)
        if right.id == "none" and not getattr(spec, "optional", False):
            raise ExprError(off, f"fact '{spec.name}' is never none: declare it 'optional: true' in facts "
                                 "if it can be known to be absent")
        self.leaves += 1
        return IsTest(off, self.src(node), fact=spec.name, test=right.id, negated=negated)

    def is_value_comparison(self, left: ast.AST, right: ast.AST) -> bool:
        """Whether `left OP right` needs value expressions: arithmetic or a call on either side, a
        computed value or `today`, or two names that are not parameters (fact with fact); the
        older form `fact OP literal-or-parameter` keeps its own node (Cmp)."""
        atoms = (ast.Name, ast.Constant)
        for side in (left, right):
            if isinstance(side, ast.UnaryOp) and isinstance(side.operand, ast.Constant):
                continue
            if not isinstance(side, atoms):
                return True
        names = [s.id for s in (left, right) if isinstance(s, ast.Name)
                 and s.id not in _LITERAL_NAMES and s.id not in self.scope.parameters]
        if set(names) & {*self.scope.computed, TODAY}:
            return True
        return len(names) == 2 and not (set(names) & set(self.scope.concepts))

    def value_comparison(self, left: ast.AST, op: str, right: ast.AST, off: int, text: str) -> Node:
        values = ValueBinder(self.text, self.scope)
        lhs, rhs = compare_types(op, values.value(left), values.value(right), off, values)
        if not facts_of(lhs) + facts_of(rhs) and not uses_today([lhs, rhs]):
            raise ExprError(off, "a comparison needs a fact on one side")
        self.leaves += 1
        return Compare(off, text, left=lhs, op=op, right=rhs)

    def membership(self, left: ast.AST, right: ast.AST, negated: bool, off: int, text: str) -> Node:
        param = self.scope.parameters.get(right.id) if isinstance(right, ast.Name) else None
        if param is not None and param.type == "list":
            return self.in_parameter(left, param, negated, off, text)
        if isinstance(right, ast.Name) and right.id not in _LITERAL_NAMES:
            spec = self.fact_spec(right)
            if spec.type != "list":
                raise ExprError(right.col_offset, f"'in {spec.name}' needs a list fact; '{spec.name}' is {spec.type}")
            item, _ = self.constant(left)
            if not isinstance(item, str):
                raise ExprError(self.off(left), f"items of '{spec.name}' are strings; got {_show(item)}")
            if spec.values and item not in spec.values:
                raise ExprError(self.off(left), f"'{item}' is not an allowed item of '{spec.name}'"
                                + suggest(item, spec.values) + f"; allowed: {', '.join(spec.values)}")
            self.leaves += 1
            return Has(off, text, fact=spec.name, item=item, negated=negated)
        spec = self.fact_spec(left)
        if not isinstance(right, (ast.List, ast.Tuple)):
            raise ExprError(self.off(right), "'in' needs a list of values [..] or a list fact on its right")
        if not right.elts:
            raise ExprError(self.off(right), "the list of values is empty")
        if len(right.elts) > MAX_LIST:
            raise ExprError(self.off(right), f"the list has {len(right.elts)} values (limit {MAX_LIST})")
        if spec.type in ("bool", "list"):
            raise ExprError(self.off(left), f"'{spec.name}' is {spec.type}: 'in [..]' needs a scalar fact")
        values = []
        for elt in right.elts:
            value, param = self.constant(elt)
            values.append(self.check_value(spec, "==", value, elt, param))
        self.leaves += 1
        return OneOf(off, text, fact=spec.name, values=tuple(dict.fromkeys(values)), negated=negated)

    def in_parameter(self, left: ast.AST, param: Any, negated: bool, off: int, text: str) -> Node:
        """`fact in list_parameter`: a one-of test whose values come from the parameter."""
        spec = self.fact_spec(left)
        if spec.type in ("bool", "list"):
            raise ExprError(self.off(left), f"'{spec.name}' is {spec.type}: 'in {param.name}' needs a scalar fact")
        values = []
        for value in param.value:
            try:
                values.append(self.check_value(spec, "==", value, left, param.name))
            except ExprError as exc:
                raise ExprError(off, f"parameter '{param.name}': {exc.message}") from None
        self.leaves += 1
        return OneOf(off, text, fact=spec.name, values=tuple(dict.fromkeys(values)), negated=negated, param=param.name)

    def fact_spec(self, node: ast.AST):
        if not isinstance(node, ast.Name):
            raise self.unsupported(node) if type(node) in _UNSUPPORTED else \
                ExprError(self.off(node), "a comparison needs a fact on one side")
        name = node.id
        if name in self.scope.facts:
            return self.scope.facts[name]
        if name in self.scope.parameters:
            raise ExprError(node.col_offset, f"'{name}' is a parameter, not a fact")
        raise ExprError(node.col_offset, f"unknown fact '{name}'" + suggest(name, self.scope.all_names()))

    def constant(self, node: ast.AST) -> tuple[Any, str]:
        """A literal or a parameter reference: (value, parameter name or '')."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool)):
            return node.value, ""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) \
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
            return (-node.operand.value if isinstance(node.op, ast.USub) else node.operand.value), ""
        if isinstance(node, ast.Name):
            if node.id in _LITERAL_NAMES:
                return _LITERAL_NAMES[node.id], ""
            if node.id in self.scope.parameters:
                return self.scope.parameters[node.id].value, node.id
            if node.id in self.scope.facts:
                raise ExprError(node.col_offset, "comparing two facts is not supported")
            raise ExprError(node.col_offset, f"unknown name '{node.id}'" + suggest(node.id, self.scope.all_names()))
        if isinstance(node, ast.Constant):
            raise ExprError(self.off(node), f"unsupported constant {self.src(node)}")
        if type(node) in _UNSUPPORTED:
            raise self.unsupported(node)
        raise ExprError(self.off(node), f"expected a value, got '{self.src(node)}'")

    def check_value(self, spec, op: str, value: Any, node: ast.AST, param: str) -> Any:
        """Type-check `fact OP value` and return the value normalised to the fact's type."""
        where = self.off(node)
        shown = f"parameter '{param}' ({_show(value)})" if param else _show(value)
        t = spec.type
        if op in ORDER_OPS and t not in ("int", "float", "date"):
            raise ExprError(where, f"'{op}' needs a number or date; '{spec.name}' is {t}")
        if t == "bool":
            if not isinstance(value, bool):
                raise ExprError(where, f"type mismatch: '{spec.name}' is bool, compared with {shown}")
            return value
        if t in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExprError(where, f"type mismatch: '{spec.name}' is {t}, compared with {shown}")
            if value != value or value in (float("inf"), float("-inf")) or abs(value) >= 2 ** 53:
                shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
                raise ExprError(where, f"number {shown} is out of range")
            return value
        if t == "date":
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(value) if isinstance(value, str) else _bad()
            except (ValueError, TypeError):
                raise ExprError(where, f"type mismatch: '{spec.name}' is a date, compared with {shown} "
                                "(write dates as \"YYYY-MM-DD\")") from None
        if t in ("string", "enum"):
            if not isinstance(value, str):
                raise ExprError(where, f"type mismatch: '{spec.name}' is {t}, compared with {shown}")
            if t == "enum" and value not in spec.values:
                raise ExprError(where, f"'{value}' is not a value of '{spec.name}'" + suggest(value, spec.values)
                                + f"; allowed: {', '.join(spec.values)}")
            return value
        if t == "list":
            raise ExprError(where, f"'{spec.name}' is a list: test it with \"item\" in {spec.name}")
        raise ExprError(where, f"cannot compare '{spec.name}' of type {t}")


def _depth(root: ast.AST) -> int:
    """How deeply the syntax tree nests (iteratively: a deep tree must not exhaust the stack here)."""
    deepest, todo = 0, [(root, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _shift(tree: ast.AST, delta: int) -> None:
    """Move column offsets by `delta` (the parse wrapped the text in parentheses)."""
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset += delta
            node.end_col_offset = (node.end_col_offset or 0) + delta


def _bad():
    raise ValueError


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def show_value(value: Any) -> str:
    """A value as a condition would write it."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    return _show(value)
