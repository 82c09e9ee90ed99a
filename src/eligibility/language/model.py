"""The validated in-memory model of a program (rules file) and of an applicant profile."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar, Union

from eligibility.language.expr import Cmp, Compare, Has, IsTest, Node, OneOf, Ref
from eligibility.language.numeric import params_of, uses_today

LEAVES = (Cmp, OneOf, Has, Compare, IsTest)

FACT_TYPES = ("bool", "int", "float", "string", "enum", "list", "date")
EVIDENCE_KINDS = ("official", "company", "press", "analysis")
Value = Union[bool, int, float, str, dt.date, tuple]


def leaf_facts(leaf: Node) -> tuple[str, ...]:
    """The facts a test reads: one, or every fact of a comparison between value expressions."""
    return leaf.facts if isinstance(leaf, Compare) else (leaf.fact,)  # type: ignore[attr-defined]


def leaf_params(leaf: Node) -> set[str]:
    """The parameters a test reads."""
    if isinstance(leaf, Compare):
        return params_of(leaf.left) | params_of(leaf.right)
    return {leaf.param} if isinstance(leaf, (Cmp, OneOf)) and leaf.param else set()


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str = ""
    date: str = ""
    url: str = ""
    locator: str = ""


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str
    description: str = ""
    unit: str = ""
    values: tuple[str, ...] = ()      # enum: allowed values; list: allowed items (empty = any string)
    line: int = 0
    range: tuple[Any, Any] | None = None   # int and float: the lowest and highest value allowed
    optional: bool = False         # may be `none` (known to be absent), which is not unknown


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    value: Any
    description: str = ""
    unit: str = ""
    line: int = 0
    overridden: bool = False       # set by --param for one run; `rules_value` keeps the file's value
    rules_value: Any = None


@dataclass(frozen=True)
class ComputedValue:
    """A named quantity of the rules file (`computed:`), e.g. a weighted mark."""

    name: str
    formula: str
    expr: Any                      # numeric.Expr, typed
    description: str = ""
    unit: str = ""
    line: int = 0


@dataclass(frozen=True)
class SourceClause:
    ref: str
    clause: str


@dataclass(frozen=True)
class Concept:
    id: str
    title: str
    condition_text: str
    condition: Node
    line: int = 0


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    kind: str                      # "gate" or "scored"
    condition_text: str
    condition: Node
    description: str = ""
    points: float = 0              # scored criteria only
    points_param: str = ""         # name of the parameter the points come from, if any
    source: SourceClause | None = None
    line: int = 0


@dataclass(frozen=True)
class DecisionPolicy:
    threshold: float = 0
    threshold_param: str = ""
    quota: int | None = None
    quota_param: str = ""
    tie_breaks: tuple[str, ...] = ("criteria_order", "name")


T = TypeVar("T")


@dataclass(frozen=True)
class ProgramVersion:
    """A later version of a program, listed in the main rules file (`program.versions`)."""

    effective: str                 # ISO date the version takes effect
    file: str                      # as written, relative to the main rules file
    path: str                      # resolved path
    line: int = 0


@dataclass
class Program:
    """A parsed, type-checked rules file."""

    path: str
    sha256: str
    id: str
    title: str
    authority: str
    dates: dict[str, str]
    budget: dict[str, Any]
    sources: dict[str, Source]
    facts: dict[str, FactSpec]
    parameters: dict[str, Parameter]
    concepts: dict[str, Concept]
    criteria: list[Criterion]
    decision: DecisionPolicy
    version: str = ""
    effective: str = ""
    versions: tuple[ProgramVersion, ...] = ()      # later versions (main rules file only)
    # Facts declared by any version of the program: a profile may hold them all; the
    # version in use reads its own and ignores the others.
    family_facts: dict[str, FactSpec] = field(default_factory=dict)
    main_path: str = ""            # the rules file named by the user, when this is a version it chose
    main_sha256: str = ""
    computed: dict[str, ComputedValue] = field(default_factory=dict)
    _made: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def made_once(self, build: Callable[["Program"], T]) -> T:
        """`build(self)`, computed on the first call and kept: tables that the per-applicant paths
        read. A program is not changed once it is in use; `dataclasses.replace` starts afresh."""
        made = self._made.get(build)
        if made is None:
            made = self._made[build] = build(self)
        return made

    @property
    def reads_today(self) -> bool:
        """Whether a condition reads `today` (the evaluation date): engines then get it as a value."""
        return self.made_once(_reads_today)

    def criterion(self, cid: str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def concepts_used(self, node: Node) -> set[str]:
        """The concepts `node` refers to, directly or through other concepts."""
        out: set[str] = set()
        todo = [node]
        while todo:
            for n in todo.pop().walk():
                if isinstance(n, Ref) and n.concept not in out and n.concept in self.concepts:
                    out.add(n.concept)
                    todo.append(self.concepts[n.concept].condition)
        return out

    def leaves(self, node: Node) -> Iterator[Node]:
        """The tests on facts under `node`, following concept references."""
        for root in [node, *(self.concepts[c].condition for c in sorted(self.concepts_used(node)))]:
            yield from (n for n in root.walk() if isinstance(n, LEAVES))

    def facts_read(self, node: Node) -> set[str]:
        """The facts `node` reads, through its concepts."""
        return {fact for leaf in self.leaves(node) for fact in leaf_facts(leaf)}


def _reads_today(program: Program) -> bool:
    roots = [c.condition for c in program.concepts.values()] + [c.condition for c in program.criteria]
    sides = [side for root in roots for n in root.walk() if isinstance(n, Compare) for side in (n.left, n.right)]
    return uses_today(sides)


@dataclass(frozen=True)
class Evidence:
    kind: str
    note: str
    source: Source


@dataclass(frozen=True)
class FactValue:
    """One value of a fact with the evidence behind it. `value` is None when unknown."""

    value: Value | None
    evidence: tuple[Evidence, ...]
    date: str = ""                 # the date this value is on record from (earliest evidence date)
    line: int = 0
    col: int = 0

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass
class Applicant:
    """A parsed applicant profile. `history` keeps every dated value of each fact."""

    path: str
    sha256: str
    id: str
    name: str
    lead: str = ""
    consortium: tuple[str, ...] = ()
    notes: str = ""
    history: dict[str, tuple[FactValue, ...]] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def fact(self, name: str, as_of: str | None = None) -> FactValue | None:
        """The value in force `as_of` (ISO date; None = the latest), or None if there is none."""
        if name in self.overrides:
            return self.overrides[name]
        chosen = None
        for fv in self.history.get(name, ()):
            if as_of is None or not fv.date or fv.date <= as_of:
                if chosen is None or fv.date >= chosen.date:
                    chosen = fv
        return chosen

    def plain_values(self) -> dict[str, Value | None] | None:
        """Every fact's single value (None if unknown) when the applicant has no evidence, dates or
        overrides, so that a fact is described by its value alone; otherwise None."""
        return None

    def values(self, as_of: str | None = None) -> dict[str, Value]:
        """Known fact values in force `as_of`: unknown and missing facts are left out."""
        out = {}
        for name in set(self.history) | set(self.overrides):
            fv = self.fact(name, as_of)
            if fv is not None and fv.value is not None:
                out[name] = fv.value
        return out


class BareApplicant(Applicant):
    """An applicant read from bare fact values (JSON Lines, CSV): one undated value per fact, no
    evidence. Its known values are kept as read, and its FactValue history is built only when
    something asks for it (a trace, a reason naming a fact): bulk runs mostly never do."""

    def __init__(self, path: str, sha256: str, id: str, name: str, lead: str = "",
                 consortium: tuple[str, ...] = (), notes: str = "",
                 history: dict[str, tuple[FactValue, ...]] | None = None, overrides: dict[str, Any] | None = None,
                 *, bare: dict[str, Any] | None = None, line: int = 1):
        self.path, self.sha256, self.id, self.name = path, sha256, id, name
        self.lead, self.consortium, self.notes = lead, consortium, notes
        self.overrides = {} if overrides is None else overrides
        self._history = history
        # `bare`: fact -> value (None = unknown); unused once a history is given (dataclasses.replace)
        self._bare = bare if history is None else None
        self._line = line
        self._facts: dict[str, FactValue] = {}

    def _fact_value(self, name: str) -> FactValue:
        fv = self._facts.get(name)
        if fv is None:
            fv = self._facts[name] = FactValue(value=self._bare[name], evidence=(), line=self._line, col=1)  # type: ignore[index]
        return fv

    @property
    def history(self) -> dict[str, tuple[FactValue, ...]]:  # type: ignore[override]
        if self._history is None:
            self._history = {name: (self._fact_value(name),) for name in self._bare or {}}
        return self._history

    def fact(self, name: str, as_of: str | None = None) -> FactValue | None:
        if self._bare is None or name in self.overrides:
            return super().fact(name, as_of)
        return self._fact_value(name) if name in self._bare else None

    def plain_values(self) -> dict[str, Value | None] | None:
        return self._bare if self._bare is not None and not self.overrides else None

    def values(self, as_of: str | None = None) -> dict[str, Value]:
        if self._bare is None or self.overrides:
            return super().values(as_of)
        return {name: v for name, v in self._bare.items() if v is not None}
