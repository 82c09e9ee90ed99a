"""Turning the value side of a condition (`4*innovation + 3*impact`, `min(a, b)`, `start + years(3)`)
into typed value expressions (language/numeric.py), checking types as it goes.

Only whitelisted syntax is accepted (names, numbers, + - * /, unary minus, parentheses and the
functions in numeric.FUNCTIONS); every name is resolved against the rules file's facts and
parameters, with a did-you-mean over facts, parameters and concepts alike.
"""
from __future__ import annotations

import ast
import datetime as dt
from typing import Any

from eligibility.language.exprbase import ExprError, suggest
from eligibility.language.numeric import (NUMBERS, TODAY, BinOp, Call, Const, Expr, FactRef, Named, Neg, Span, Today,
                                          compute)

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_LITERALS = {"true": True, "false": False, "True": True, "False": False}
_ARITY = {"min": (2, 20), "max": (2, 20), "abs": (1, 1), "round": (1, 2), "count": (1, 1),
          "years_between": (2, 2), "days_between": (2, 2), "years": (1, 1), "months": (1, 1), "days": (1, 1)}
MAX_ROUND_DIGITS = 6


class ValueBinder:
    """Builds typed value expressions from Python syntax trees of one condition."""

    def __init__(self, text: str, scope: Any):
        self.text = text
        self.scope = scope

    def src(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ""

    def value(self, node: ast.AST, depth: int = 0) -> Expr:
        off, text = getattr(node, "col_offset", 0), self.src(node)
        if depth > 32:
            raise ExprError(off, "expression is nested too deeply (limit 32)")
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                return Const(off, text, value=v, type="bool" if isinstance(v, bool) else "other")
            return Const(off, text, value=v, type="string" if isinstance(v, str) else _num_type(v))
        if isinstance(node, ast.Name):
            return self.name(node, text)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            item = self.value(node.operand, depth + 1)
            if item.type not in (*NUMBERS, "span"):
                raise ExprError(off, f"'-' needs a number; '{item.text}' is {_a(item.type)}")
            if isinstance(node.op, ast.UAdd):
                return item
            if isinstance(item, Const):
                return Const(off, text, value=-item.value, type=item.type)
            return Neg(off, text, item=item, type=item.type)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return self.binop(node, _OPS[type(node.op)], depth, off, text)
        if isinstance(node, ast.Call):
            return self.call(node, depth, off, text)
        if isinstance(node, (ast.Compare, ast.BoolOp)) or isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            raise ExprError(off, f"'{text}' is a condition (true or false), not a number or a date")
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            raise ExprError(off, f"this arithmetic is not allowed in '{text}' (use + - * / and unary minus)")
        raise ExprError(off, f"'{text}' is not allowed in a value (use numbers, facts, parameters, + - * /, "
                             "parentheses and min, max, abs, round, count, years_between, days_between)")

    def name(self, node: ast.Name, text: str) -> Expr:
        name, off = node.id, node.col_offset
        if name in _LITERALS:
            return Const(off, text, value=_LITERALS[name], type="bool")
        spec = self.scope.facts.get(name)
        if spec is not None:
            kind = "enum" if spec.type == "enum" else spec.type
            return FactRef(off, text, fact=name, type=kind)
        computed = self.scope.computed.get(name)
        if computed is not None:
            return Named(off, text, name=name, item=computed, type=computed.type)
        param = self.scope.parameters.get(name)
        if param is not None:
            value = param.value
            kind = _num_type(value) if param.type in NUMBERS else param.type
            return Const(off, text, value=value, param=name, type=kind)
        if name in self.scope.concepts:
            raise ExprError(off, f"concept '{name}' is true or false, not a value")
        if name == TODAY:
            return Today(off, text, type="date")
        raise ExprError(off, f"unknown name '{name}'" + suggest(name, self.scope.all_names()))

    def binop(self, node: ast.BinOp, op: str, depth: int, off: int, text: str) -> Expr:
        left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
        lt, rt = left.type, right.type
        if lt in NUMBERS and rt in NUMBERS:
            kind = "float" if op == "/" or "float" in (lt, rt) else "int"
        elif op in "+-" and lt == "date" and rt == "span":
            kind = "date"
        elif op == "+" and lt == "span" and rt == "date":
            kind = "date"
        elif lt == "date" and rt == "date" and op == "-":
            raise ExprError(off, "subtracting dates is written days_between(a, b) or years_between(a, b)")
        else:
            hint = " (write a date plus or minus years(n), months(n) or days(n))" if "date" in (lt, rt) else ""
            raise ExprError(off, f"cannot apply '{op}' to {_a(lt)} and {_a(rt)}{hint}")
        if op == "/" and isinstance(right, Const) and right.value == 0:
            raise ExprError(right.offset, f"division by zero in '{text}'")
        if isinstance(left, Const) and isinstance(right, Const) and not left.param and not right.param:
            folded = compute(BinOp(off, text, op=op, left=left, right=right), {})
            if folded is None:
                raise ExprError(off, f"'{text}' has no value (division by zero or a number too large)")
            return Const(off, text, value=folded, type=kind)
        return BinOp(off, text, op=op, left=left, right=right, type=kind)

    def call(self, node: ast.Call, depth: int, off: int, text: str) -> Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in _ARITY or node.keywords:
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            raise ExprError(off, "function calls are not allowed except " + ", ".join(_ARITY) + " with plain "
                                 "arguments" + suggest(name, list(_ARITY)))
        func = node.func.id
        low, high = _ARITY[func]
        if not low <= len(node.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise ExprError(off, f"{func}() takes {want} argument{'s' if high > 1 else ''}, got {len(node.args)}")
        args = tuple(self.value(a, depth + 1) for a in node.args)
        kinds = [a.type for a in args]
        if func == "count":
            if kinds[0] != "list":
                raise ExprError(args[0].offset, f"count() needs a list fact; '{args[0].text}' is {_a(kinds[0])}")
            kind = "int"
        elif func in ("years_between", "days_between"):
            args = tuple(self.as_date(a) for a in args)
            kind = "int"
        elif func in ("years", "months", "days"):
            if kinds[0] != "int":
                raise ExprError(args[0].offset, f"{func}() needs a whole number; '{args[0].text}' is {_a(kinds[0])}")
            kind = "span"
        elif func == "round":
            if kinds[0] not in NUMBERS:
                raise ExprError(args[0].offset, f"round() needs a number; '{args[0].text}' is {_a(kinds[0])}")
            if len(args) > 1 and not (isinstance(args[1], Const) and kinds[1] == "int"
                                      and 0 <= args[1].value <= MAX_ROUND_DIGITS):
                raise ExprError(args[1].offset, f"round()'s digits must be a whole number 0 to {MAX_ROUND_DIGITS}")
            kind = "int" if len(args) == 1 else "float"
        elif func == "abs":
            if kinds[0] not in NUMBERS:
                raise ExprError(args[0].offset, f"abs() needs a number; '{args[0].text}' is {_a(kinds[0])}")
            kind = kinds[0]
        else:                                               # min, max: numbers, or dates
            if all(k in NUMBERS for k in kinds):
                kind = "float" if "float" in kinds else "int"
            elif "date" in kinds:
                args = tuple(self.as_date(a) for a in args)
                kind = "date"
            else:
                bad = next(a for a in args if a.type not in NUMBERS)
                raise ExprError(bad.offset, f"{func}() needs numbers or dates; '{bad.text}' is {_a(bad.type)}")
        return Call(off, text, func=func, args=args, type=kind)

    def as_date(self, expr: Expr) -> Expr:
        """A date-typed expression, reading a text constant "YYYY-MM-DD" as a date."""
        if expr.type == "date":
            return expr
        if isinstance(expr, Const) and isinstance(expr.value, str):
            try:
                return Const(expr.offset, expr.text, value=dt.date.fromisoformat(expr.value), param=expr.param,
                             type="date")
            except ValueError:
                pass
        raise ExprError(expr.offset, f"expected a date, got '{expr.text}' ({_a(expr.type)}; write dates as "
                                     "\"YYYY-MM-DD\")")


def compare_types(op: str, left: Expr, right: Expr, off: int, binder: ValueBinder) -> tuple[Expr, Expr]:
    """Check that `left OP right` compares like with like; returns the sides (text dates read as dates)."""
    lt, rt = left.type, right.type
    if lt in NUMBERS and rt in NUMBERS:
        return left, right
    if "date" in (lt, rt) and {lt, rt} <= {"date", "string"}:
        return binder.as_date(left), binder.as_date(right)
    if "span" in (lt, rt):
        raise ExprError(off, "a length of time (years(n), months(n), days(n)) is only added to or taken from a date")
    if lt == rt and lt in ("bool", "string", "enum") and op in ("==", "!="):
        if isinstance(left, Const) and isinstance(right, Const):
            raise ExprError(off, "a comparison needs a fact on one side")
        return left, right
    if lt == rt and lt in ("bool", "string", "enum"):
        raise ExprError(off, f"'{op}' needs numbers or dates; these are {lt}")
    raise ExprError(off, f"type mismatch: cannot compare {_a(lt)} ('{left.text}') with {_a(rt)} ('{right.text}')")


def _num_type(value: Any) -> str:
    return "int" if isinstance(value, int) else "float"


def _a(kind: str) -> str:
    names = {"int": "a whole number", "float": "a number", "date": "a date", "span": "a length of time",
             "list": "a list", "bool": "true/false", "string": "text", "enum": "a choice of values"}
    return names.get(kind, kind)


__all__ = ["ValueBinder", "compare_types", "Span"]
