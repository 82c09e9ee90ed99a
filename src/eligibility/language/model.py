"""The validated in-memory model of a program (rules file) and of an applicant profile."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple, Union

from eligibility.language.basis import Basis
from eligibility.language.expr import Cmp, Compare, Has, IsTest, Node, OneOf, Ref
from eligibility.language.numeric import params_of, uses_today

LEAVES = (Cmp, OneOf, Has, Compare, IsTest)

# gate: must be met; scored: earns its points when met; published: the authority's published
# decision on the applicant, which settles a verdict the other criteria leave open or read otherwise
CRITERION_KINDS = ("gate", "scored", "published")
FACT_TYPES = ("bool", "int", "float", "string", "enum", "list", "date")
EVIDENCE_KINDS = ("official", "company", "press", "analysis")
BUILTIN_RANK_KEYS = ("score", "criteria_order", "gates_met", "name", "id")
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
    reports: str = ""              # the date of the event or statement the source reports, if earlier than `date`


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
    basis: Basis | None = None
    effective: str = ""            # a dated parameter: the date from which the value used is in force
    values: tuple["DatedValue", ...] = ()     # a dated parameter's history, in date order


@dataclass(frozen=True)
class DatedValue:
    """One entry of a parameter's history of values (`values:`): in force from `effective`."""

    effective: str
    value: Any
    basis: Basis | None = None


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
    kind: str                      # "gate", "scored" or "published" (see CRITERION_KINDS)
    condition_text: str
    condition: Node
    description: str = ""
    points: float = 0              # scored criteria only
    points_param: str = ""         # name of the parameter the points come from, if any
    # points written as an expression (numeric.Expr), computed from each applicant's values;
    # `points` is then its highest value over the facts' declared ranges (inf: unbounded)
    points_expr: Any = None
    points_text: str = ""
    source: SourceClause | None = None
    line: int = 0
    basis: Basis | None = None          # of the condition
    points_basis: Basis | None = None   # of the points (scored criteria)
    # a gate that records the authority's published decision, whose reasons were not published
    published_decision: bool = False


@dataclass(frozen=True)
class RankKey:
    """One key of `decision.rank_by`: a built-in key (score, criteria_order, gates_met, name, id)
    or the name of a fact or computed value, highest first (`descending`) or lowest first."""

    key: str
    descending: bool

    @property
    def order(self) -> str:
        return "desc" if self.descending else "asc"


@dataclass(frozen=True)
class DecisionPolicy:
    threshold: float = 0
    threshold_param: str = ""
    quota: int | None = None
    quota_param: str = ""
    tie_breaks: tuple[str, ...] = ("criteria_order", "name")
    threshold_basis: Basis | None = None
    rank_by: tuple[RankKey, ...] = ()     # as written; empty when the file ranks by score and tie_breaks

    @property
    def value_keys(self) -> tuple[str, ...]:
        """The facts and computed values the ranking reads, in rank_by order."""
        return tuple(k.key for k in self.rank_by if k.key not in BUILTIN_RANK_KEYS)


@dataclass(frozen=True)
class ProgramVersion:
    """A later version of a program, listed in the main rules file (`program.versions`)."""

    effective: str                 # ISO date the version takes effect
    file: str                      # as written, relative to the main rules file
    path: str                      # resolved path
    line: int = 0


@dataclass(frozen=True)
class ProgramStage:
    """One stage of a programme in stages (`program.stages`): its own rules file and date.

    Its population is whoever advanced from the stage before it plus the applicants for whom its
    `entrants` fact (a bool) is true on its date; with `judges: entrants`, only the entrants are
    judged and those who advanced continue unjudged (an added call)."""

    id: str
    title: str
    date: str                      # ISO date of the stage's decision
    path: str                      # resolved rules file of the stage; "": the version in force on `date`
    entrants: str = ""             # bool fact: true for the applicants who enter at this stage
    judges_entrants_only: bool = False
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
    stages: tuple[ProgramStage, ...] = ()          # a programme in stages; none: the file is one stage

    def threshold_basis(self) -> Basis | None:
        """The basis of the decision threshold: its own, else its parameter's."""
        d = self.decision
        if d.threshold_basis is None and d.threshold_param in self.parameters:
            return self.parameters[d.threshold_param].basis
        return d.threshold_basis

    @property
    def reads_today(self) -> bool:
        """Whether a condition reads `today` (the evaluation date): engines then get it as a value."""
        return _reads_today(self)

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
    return uses_today(sides + [c.points_expr for c in program.criteria if c.points_expr is not None])


# A knowledge date after every publication: all evidence on file is used.
ALL_EVIDENCE = "9999-12-31"


@dataclass(frozen=True)
class Evidence:
    kind: str
    note: str
    source: Source

    def published_after(self, date: str | None) -> bool:
        """Whether the source appeared after `date` (None: no cut-off; an undated source never is)."""
        return bool(date and self.source.date and self.source.date > date)


class FactValue(NamedTuple):
    """One value of a fact with the evidence behind it. `value` is None when unknown. (A named
    tuple: profiles of large batches make one per fact, and it is the cheapest immutable record.)"""

    value: Value | None
    evidence: tuple[Evidence, ...]
    date: str = ""                 # the date the value holds from (its `date`, else its earliest evidence's)
    line: int = 0
    col: int = 0

    @property
    def known(self) -> bool:
        return self.value is not None

    def published_by(self, date: str | None) -> bool:
        """Whether some evidence of this value had appeared by `date` (a value given without
        evidence, or no `date`: yes). Only then is the value on record at that date."""
        return not self.evidence or not all(e.published_after(date) for e in self.evidence)


@dataclass
class Applicant:
    """A parsed applicant profile. `history` keeps every dated value of each fact, with its
    evidence. A profile read from bare values (JSON Lines, CSV: one undated value per fact, no
    evidence) keeps them as such in `bare_values` (None for unknown), read from `line`."""

    path: str
    sha256: str
    id: str
    name: str
    lead: str = ""
    consortium: tuple[str, ...] = ()
    notes: str = ""
    history: dict[str, tuple[FactValue, ...]] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    bare_values: dict[str, Value | None] | None = None
    line: int = 0
    # evidence published after this date is not used; None: the as-of date of each question
    known_by: str | None = None

    @property
    def bare(self) -> bool:
        return self.bare_values is not None

    def facts(self) -> dict[str, tuple[FactValue, ...]]:
        """Every fact's values on record, each with its evidence (none for bare values)."""
        if self.bare_values is None:
            return self.history
        return {name: (FactValue(v, (), "", self.line, 1),) for name, v in self.bare_values.items()}

    def cutoff(self, as_of: str | None) -> str | None:
        """The date after which published evidence is not used for a question `as_of` a date."""
        return self.known_by or as_of

    def fact(self, name: str, as_of: str | None = None) -> FactValue | None:
        """The value on record `as_of` (ISO date; None = the latest), or None if there is none: the
        latest that holds by then and whose evidence had been published by then (or `known_by`)."""
        if name in self.overrides:
            return self.overrides[name]
        if self.bare_values is not None:
            return FactValue(self.bare_values[name], (), "", self.line, 1) if name in self.bare_values else None
        chosen = None
        cutoff = self.cutoff(as_of)
        for fv in self.history.get(name, ()):
            if (as_of is None or not fv.date or fv.date <= as_of) and fv.published_by(cutoff):
                if chosen is None or fv.date >= chosen.date:
                    chosen = fv
        return chosen

    @property
    def described_by_values(self) -> bool:
        """Whether every fact is a bare value (no evidence, date or override): then what is said
        about a fact depends on its value alone."""
        return self.bare_values is not None and not self.overrides

    def values(self, as_of: str | None = None) -> dict[str, Value]:
        """Known fact values in force `as_of`: unknown and missing facts are left out."""
        if self.bare_values is not None and not self.overrides:
            return {name: v for name, v in self.bare_values.items() if v is not None}
        out = {}
        for name in set(self.bare_values or self.history) | set(self.overrides):
            fv = self.fact(name, as_of)
            if fv is not None and fv.value is not None:
                out[name] = fv.value
        return out
