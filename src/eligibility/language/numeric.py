"""Typed arithmetic inside conditions: the value expressions and their reference evaluation.

A value expression is a tree of the node classes below, built by the condition parser
(language/expr.py) and type-checked there. Types: "int", "float", "date" and "span" (a
length of time made by `years(n)`, `months(n)` or `days(n)`, only ever added to or
subtracted from a date). `compute` is the reference meaning of every operator; the engines
implement the same meaning independently and the differential tests hold them to it.

Defined outcomes (documented in docs/format.md): a `none` input (an optional fact known to be
absent) makes the value none; otherwise an unknown input makes the value unknown; so
does dividing by zero, a number whose size reaches 2**53 (or is not finite), and a date outside
years 1-9999. A comparison with an unknown side is unknown, never silently true or false.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import operator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Mapping

LIMIT = 2 ** 53                 # numbers at or beyond this size are not exact in the engine
MAX_SPAN = 100_000              # years(n), months(n), days(n): |n| beyond this is undefined
NUMBERS = ("int", "float")
FUNCTIONS = ("min", "max", "abs", "round", "count", "years_between", "days_between", "years", "months", "days")


class Absent:
    """The value `none` of an optional fact: known to be absent (not the same as unknown)."""

    _one: "Absent | None" = None

    def __new__(cls) -> "Absent":
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "none"

    def __reduce__(self) -> str:
        return "NONE"                 # pickled as the module's one instance (worker processes)


NONE = Absent()


def compare(op: str, a: Any, b: Any) -> bool | None:
    """`a OP b` in three values: with a none side, `!=` is true and every other test false (none
    equals nothing and has no order); otherwise unknown when a side is unknown (None)."""
    if a is NONE or b is NONE:
        return op == "!="
    if a is None or b is None:
        return None
    return _COMPARE[op](a, b)


_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
            ">=": operator.ge}


@dataclass(frozen=True)
class Span:
    """A length of time: whole months then days (years(2) is 24 months)."""

    months: int = 0
    days: int = 0


@dataclass(eq=False)
class Expr:
    """A value expression; `type` is set by the parser once checked."""

    offset: int
    text: str
    type: str = field(default="", kw_only=True)

    def parts(self) -> tuple["Expr", ...]:
        return ()

    def walk(self):
        yield self
        for part in self.parts():
            yield from part.walk()


@dataclass(eq=False)
class Const(Expr):
    value: Any = None
    param: str = ""             # the parameter the value came from, if any


@dataclass(eq=False)
class FactRef(Expr):
    fact: str = ""


@dataclass(eq=False)
class Neg(Expr):
    item: Expr = None  # type: ignore[assignment]

    def parts(self) -> tuple[Expr, ...]:
        return (self.item,)


@dataclass(eq=False)
class BinOp(Expr):
    op: str = "+"               # + - * /
    left: Expr = None  # type: ignore[assignment]
    right: Expr = None  # type: ignore[assignment]

    def parts(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(eq=False)
class Call(Expr):
    func: str = ""
    args: tuple[Expr, ...] = ()

    def parts(self) -> tuple[Expr, ...]:
        return self.args


TODAY = "today"                 # the evaluation date's name in conditions and in the values engines read


@dataclass(eq=False)
class Today(Expr):
    """The evaluation date: the --as-of date, else the day of the run."""


def evaluation_date(as_of: str | None) -> dt.date:
    """The date `today` stands for in a run evaluated as of `as_of` (ISO date or None)."""
    return dt.date.fromisoformat(as_of) if as_of else dt.date.today()


def with_today(values: Mapping[str, Any], day: dt.date) -> dict[str, Any]:
    """Fact values plus the evaluation date, for a program whose conditions read `today`."""
    return {**values, TODAY: day}


def uses_today(exprs) -> bool:
    return any(isinstance(e, Today) for expr in exprs for e in expr.walk())


@dataclass(eq=False)
class Named(Expr):
    """A computed value of the rules file (`computed:`), used by name."""

    name: str = ""
    item: Expr = None  # type: ignore[assignment]

    def parts(self) -> tuple[Expr, ...]:
        return (self.item,)


def facts_of(expr: Expr) -> tuple[str, ...]:
    """The facts an expression reads, in order of first appearance."""
    return tuple(dict.fromkeys(e.fact for e in expr.walk() if isinstance(e, FactRef)))


def params_of(expr: Expr) -> set[str]:
    return {e.param for e in expr.walk() if isinstance(e, Const) and e.param}


def number(value: Any) -> Any:
    """`value` if it is a number the engines represent exactly, else None (undefined)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if abs(value) < LIMIT else None


def add_span(day: dt.date, span: Span, sign: int = 1) -> dt.date | None:
    """`day` moved by `span` (months first, the day clamped to the month's end; then days)."""
    months = day.year * 12 + day.month - 1 + sign * span.months
    year, month = divmod(months, 12)
    if not 1 <= year <= 9999:
        return None
    moved = dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
    try:
        return moved + dt.timedelta(days=sign * span.days)
    except OverflowError:
        return None


def years_between(a: dt.date, b: dt.date) -> int:
    """Whole years from `a` to `b` (an age on date b for a birth date a); negative when b < a."""
    if b < a:
        return -years_between(b, a)
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))


def round_half_away(value: Any, digits: int | None) -> Any:
    """Rounding half away from zero (2.5 -> 3, -2.5 -> -3), unlike Python's round."""
    exp = Decimal(1).scaleb(-(digits or 0))
    out = Decimal(repr(value)).quantize(exp, rounding=ROUND_HALF_UP)
    return int(out) if digits is None else float(out)


def compute(expr: Expr, facts: Mapping[str, Any]) -> Any:
    """The value of `expr` for known fact values (missing = unknown); None if unknown or undefined."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, FactRef):
        return facts.get(expr.fact)
    if isinstance(expr, Named):
        return compute(expr.item, facts)
    if isinstance(expr, Today):
        return facts.get(TODAY)
    values = [compute(p, facts) for p in expr.parts()]
    if any(v is NONE for v in values):          # none + anything is none, even + unknown
        return NONE
    if any(v is None for v in values):
        return None
    if isinstance(expr, Neg):
        (v,) = values
        return Span(-v.months, -v.days) if isinstance(v, Span) else number(-v)
    if isinstance(expr, BinOp):
        return _binop(expr.op, *values)
    assert isinstance(expr, Call)
    return _call(expr.func, values)


def _binop(op: str, a: Any, b: Any) -> Any:
    if isinstance(b, Span):
        return add_span(a, b, 1 if op == "+" else -1)
    if isinstance(a, Span):                      # span + date
        return add_span(b, a)
    if op == "+":
        return number(a + b)
    if op == "-":
        return number(a - b)
    if op == "*":
        return number(a * b)
    return None if b == 0 else number(a / b)


def _call(func: str, args: list) -> Any:
    if func == "min":
        return min(args)
    if func == "max":
        return max(args)
    if func == "abs":
        return abs(args[0])
    if func == "round":
        return number(round_half_away(args[0], args[1] if len(args) > 1 else None))
    if func == "count":
        return len(args[0])
    if func == "years_between":
        return years_between(args[0], args[1])
    if func == "days_between":
        return (args[1] - args[0]).days
    n = args[0]
    if abs(n) > MAX_SPAN:
        return None
    return Span(months=12 * n) if func == "years" else Span(months=n) if func == "months" else Span(days=n)


def engine_number(value: Any) -> Any:
    """A computed value as the engine stores it (dates as day numbers)."""
    return value.toordinal() if isinstance(value, dt.date) else value


def show(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Span):
        return f"{value.months} months {value.days} days"
    if value is NONE:
        return "none"
    return repr(value) if isinstance(value, float) else str(value)


def worked(expr: Expr, facts: Mapping[str, Any]) -> str:
    """`expr` with each fact replaced by its value, e.g. `4 x 9 + 3 x 8` (`?` for an unknown)."""
    if isinstance(expr, Const):
        return show(expr.value)
    if isinstance(expr, FactRef):
        v = facts.get(expr.fact)
        return "?" if v is None else show(v)
    if isinstance(expr, (Named, Today)):
        v = compute(expr, facts)
        return "?" if v is None else show(v)
    if isinstance(expr, Neg):
        return "-" + _wrapped(expr.item, facts, "*", True)
    if isinstance(expr, BinOp):
        op = "x" if expr.op == "*" else expr.op
        return f"{_wrapped(expr.left, facts, expr.op, False)} {op} {_wrapped(expr.right, facts, expr.op, True)}"
    assert isinstance(expr, Call)
    return f"{expr.func}({', '.join(worked(a, facts) for a in expr.args)})"


def worked_side(expr: Expr, facts: Mapping[str, Any]) -> str:
    """One side of a comparison worked out: `weighted_mark = 4 x 9 + 3 x 8 + 3 x 8 = 84`."""
    value = compute(expr, facts)
    shown = "unknown" if value is None else show(value)
    if isinstance(expr, Named):
        return f"{expr.name} = {worked_side(expr.item, facts)}"
    steps = worked(expr, facts)
    return shown if steps in (shown, expr.text) else f"{steps} = {shown}"


def _wrapped(expr: Expr, facts: Mapping[str, Any], parent: str, right: bool) -> str:
    """A part's worked text, in parentheses where the parent operator binds tighter."""
    text = worked(expr, facts)
    if isinstance(expr, BinOp) and (expr.op in "+-" and (parent in "*/" or parent == "-" and right)
                                    or parent == "/" and right):
        return f"({text})"
    return text
