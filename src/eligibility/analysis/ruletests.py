"""Rule tests: YAML cases that pin verdicts and their reasons, run through the engine, with coverage.

Format (documented in docs/testing.md):

    rules: sovereign-ai-2025.yaml        # relative to the test file
    cases:
      - name: KT is excluded on independence
        profile: ../applicants/kt.yaml   # and/or `facts:` inline (no evidence needed)
        set: {open_weights_released: false}
        params: {score_threshold: 60}
        expect: {verdict: excluded, gates_failed: [foreign_independence], criteria: {autonomy: met}}
      - name: Naver Cloud does not advance in phase 1
        profile: ../applicants/naver-cloud.yaml
        as_of: 2026-01-15                # the rules version in force then, and the facts known then
        expect: {verdict: excluded, gates_failed: [weights_independence]}
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from eligibility.evaluate.evaluator import Evaluator
from eligibility.language.profile import apply_overrides, load_applicant as load_profile
from eligibility.language.versions import load_rules
from eligibility.core.errors import InputError, Problems
from eligibility.evaluate.assess import Evaluation, MET, NOT_MET, UNKNOWN
from eligibility.language.expr import Node
from eligibility.language.fields import Reader
from eligibility.language.model import LEAVES, Program
from eligibility.program.decision import decide, entry_from_record
from eligibility.records.record import evaluation_record
from eligibility.language.numeric import NONE, TODAY, Span, compute, show
from eligibility.language.profile import applicant_from_data
from eligibility.language.yamlsafe import YList, YMap, load_yaml, read_text
from eligibility.core.paths import yaml_files

FILE_KEYS = ("rules", "cases")
CASE_KEYS = ("name", "profile", "facts", "set", "params", "as_of", "expect", "population")
MEMBER_KEYS = ("id", "profile", "facts", "set")
EXPECT_KEYS = ("verdict", "gates_failed", "criteria", "score", "missing", "reason", "computed", "rank", "final",
               "provisional")
DECISION_KEYS = {"rank", "final", "provisional"}     # read from the decision over the case's population
FINALS = ("selected", "eligible-not-selected", "excluded", "undetermined")
VERDICTS = ("selected", "excluded", "undetermined")
OUTCOMES = (MET, NOT_MET, UNKNOWN)
TRUTHS = ("true", "false", "unknown")
_TRUTH = {True: "true", False: "false", None: "unknown"}
_CRITERION = {"true": MET, "false": NOT_MET, "unknown": UNKNOWN}


@dataclass
class Case:
    file: str
    line: int
    name: str
    rules: str
    profile: str | None
    facts: YMap | None
    settings: dict[str, Any]
    params: dict[str, Any]
    expect: dict[str, Any]
    as_of: str | None = None
    population: list["Case"] = field(default_factory=list)   # the other applicants ranked with this one


@dataclass
class Mismatch:
    field: str
    expected: Any
    actual: Any
    criteria: tuple[str, ...] = ()        # the criteria whose trace explains the difference


@dataclass
class CaseResult:
    case: Case
    evaluation: Evaluation
    mismatches: list[Mismatch]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass
class CoverageItem:
    """A criterion or a leaf test of a criterion or concept, and the outcomes the tests gave it."""

    kind: str                 # "criterion" or "test"
    owner: str                # "criterion 'x'" / "concept 'y'"
    text: str
    path: str
    line: int
    col: int
    seen: set = field(default_factory=set)

    @property
    def missing(self) -> list[str]:
        return [t for t in TRUTHS if t not in self.seen]


# -- loading -------------------------------------------------------------------------------
def load_cases(path: str) -> list[Case]:
    """Read one test file; every problem in it is reported at once."""
    problems = Problems(path)
    data = load_yaml(path, read_text(path))
    reader = Reader(problems)
    if not isinstance(data, YMap):
        problems.add(1, 1, "a rule test file must be a mapping with 'rules' and 'cases'")
        problems.raise_if_any()
    reader.known_keys(data, FILE_KEYS, "test file")
    base = os.path.dirname(path)
    rules = reader.text(data, "rules", "test file")
    rules_path = os.path.normpath(os.path.join(base, rules)) if rules else ""
    if rules and not os.path.isfile(rules_path):
        problems.add(data.pos("rules").line, data.pos("rules").col, f"rules file not found: {rules_path}")
    cases = []
    items = reader.seq(data, "cases", "test file", required=True) or YList()
    names: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, YMap):
            pos = items.pos(i)
            problems.add(pos.line, pos.col, "each case must be a mapping with 'name' and 'expect'")
            continue
        reader.known_keys(item, CASE_KEYS, "case")
        name = reader.text(item, "name", "case")
        if name in names:
            problems.add(item.pos("name").line, item.pos("name").col, f"duplicate case name {name!r}")
        names.add(name)
        profile_path, facts, settings = _applicant_keys(reader, item, base, f"case {name!r}")
        params = reader.mapping(item, "params", item.start, f"case {name!r}", required=False) or {}
        expect = reader.mapping(item, "expect", item.start, f"case {name!r}") or YMap()
        if hasattr(expect, "start"):
            _check_expect(reader, expect, name)
        as_of = reader.date(item, "as_of", f"case {name!r}") or None
        population = []
        for j, member in enumerate(reader.seq(item, "population", f"case {name!r}") or ()):
            if not isinstance(member, YMap):
                problems.add(item.pos("population").line, item.pos("population").col,
                             f"case {name!r}: each member of 'population' is a mapping with 'profile' or 'facts'")
                continue
            reader.known_keys(member, MEMBER_KEYS, f"case {name!r} population")
            m_profile, m_facts, m_settings = _applicant_keys(reader, member, base, f"case {name!r} population")
            label = reader.text(member, "id", "population member", required=False) or f"{name} #{j + 2}"
            population.append(Case(path, member.start.line, label, rules_path, m_profile, m_facts, dict(m_settings),
                                   dict(params), {}, as_of))
        if population and not (DECISION_KEYS & set(expect)) and hasattr(expect, "start"):
            reader.error(expect.start, f"case {name!r}: a population case expects 'rank', 'final' or 'provisional'")
        cases.append(Case(path, item.start.line, name, rules_path, profile_path, facts, dict(settings),
                          dict(params), dict(expect), as_of, population))
    problems.raise_if_any()
    return cases


def _applicant_keys(reader: Reader, item: YMap, base: str, what: str) -> tuple[str | None, YMap | None, YMap | dict]:
    """A case's (or population member's) profile path, inline facts and what-if settings."""
    profile = reader.text(item, "profile", what, required=False)
    profile_path = os.path.normpath(os.path.join(base, profile)) if profile else None
    facts = reader.mapping(item, "facts", item.start, what, required=False)
    if profile_path is None and facts is None:
        reader.error(item.start, f"{what}: give 'profile' or 'facts'")
    settings = reader.mapping(item, "set", item.start, what, required=False) or {}
    return profile_path, facts, settings


def _check_expect(reader: Reader, expect: YMap, name: str) -> None:
    what = f"case {name!r} expect"
    reader.known_keys(expect, EXPECT_KEYS, what)
    if not expect:
        reader.error(expect.start, f"{what}: expect at least a verdict")
    if "verdict" in expect and expect["verdict"] not in VERDICTS:
        reader.error(expect.pos("verdict"), f"{what}: verdict must be one of {', '.join(VERDICTS)}")
    if "final" in expect and expect["final"] not in FINALS:
        reader.error(expect.pos("final"), f"{what}: final must be one of {', '.join(FINALS)}")
    if "rank" in expect and expect["rank"] is not None and (not isinstance(expect["rank"], int)
                                                            or isinstance(expect["rank"], bool) or expect["rank"] < 1):
        reader.error(expect.pos("rank"), f"{what}: rank is a whole number from 1 (or null: not ranked)")
    if "provisional" in expect and not isinstance(expect["provisional"], bool):
        reader.error(expect.pos("provisional"), f"{what}: provisional is true or false")
    criteria = expect.get("criteria")
    if criteria is not None:
        if not isinstance(criteria, YMap):
            reader.error(expect.pos("criteria"), f"{what}: 'criteria' maps criterion ids to met/not_met/unknown")
        else:
            for cid, outcome in criteria.items():
                if outcome not in OUTCOMES:
                    reader.error(criteria.pos(cid), f"{what}: outcome of '{cid}' must be one of {', '.join(OUTCOMES)}")
    computed = expect.get("computed")
    if computed is not None and not isinstance(computed, YMap):
        reader.error(expect.pos("computed"), f"{what}: 'computed' maps computed value names to their values "
                                             "(a number, a date, unknown or none)")
    for key in ("gates_failed", "missing"):
        if key in expect and not isinstance(expect[key], list):
            reader.error(expect.pos(key), f"{what}: '{key}' must be a list")


# -- running ---------------------------------------------------------------------------------
class Runner:
    """Runs cases, one compiled program and engine per (rules file, parameters)."""

    def __init__(self, engine: str = "durable"):
        self.engine = engine
        self.evaluators: dict[tuple, Evaluator] = {}

    def evaluator(self, rules: str, params: dict[str, Any], as_of: str | None = None) -> Evaluator:
        params_key = tuple(sorted((k, str(v)) for k, v in params.items()))
        if (rules, params_key, as_of) not in self.evaluators:
            program = load_rules(rules, params, as_of)      # the version in force `as_of`
            same = [e for (r, p, _), e in self.evaluators.items()
                    if r == rules and p == params_key and e.program.path == program.path]
            self.evaluators[(rules, params_key, as_of)] = same[0] if same else Evaluator(program, self.engine)
        return self.evaluators[(rules, params_key, as_of)]

    def run(self, case: Case) -> CaseResult:
        evaluator = self.evaluator(case.rules, case.params, case.as_of)
        program = evaluator.program
        applicant = self.applicant(case, program)
        if case.settings:
            apply_overrides(applicant, program, case.settings)
        ev = evaluator.evaluate(applicant, case.as_of)
        self._check_criteria_exist(case, program)
        mismatches = compare(case.expect, ev)
        if DECISION_KEYS & set(case.expect):
            mismatches += self.compare_decision(case, evaluator, ev)
        return CaseResult(case, ev, mismatches)

    def compare_decision(self, case: Case, evaluator: Evaluator, ev: Evaluation) -> list[Mismatch]:
        """Rank and final verdict (after the quota) of the case's applicant among its population."""
        others = []
        for member in case.population:
            applicant = self.applicant(member, evaluator.program)
            if member.settings:
                apply_overrides(applicant, evaluator.program, member.settings)
            others.append(evaluator.evaluate(applicant, case.as_of))
        entries = [entry_from_record(i, evaluation_record(e, trace=False)) for i, e in enumerate([ev, *others])]
        decide(evaluator.program, entries)
        mine, out = entries[0], []
        if "rank" in case.expect and case.expect["rank"] != mine.rank:
            out.append(Mismatch("rank", case.expect["rank"], mine.rank))
        if "final" in case.expect and case.expect["final"] != mine.final:
            out.append(Mismatch("final", case.expect["final"], f"{mine.final} ({mine.reason})"))
        if "provisional" in case.expect and case.expect["provisional"] != bool(mine.provisional):
            out.append(Mismatch("provisional", case.expect["provisional"], mine.provisional or "not provisional"))
        return out

    def applicant(self, case: Case, program: Program):
        if case.profile:
            applicant = load_profile(case.profile, program)
            if case.facts:
                apply_overrides(applicant, program, dict(case.facts))
            return applicant
        problems = Problems(case.file)
        data = {"id": _member_id(case.name) if not case.expect else "case", "name": case.name, "facts": case.facts}
        applicant = applicant_from_data(data, program, case.file, "", problems, require_evidence=False,
                                        line=case.line)
        problems.raise_if_any()
        return applicant

    def _check_criteria_exist(self, case: Case, program: Program) -> None:
        ids = [c.id for c in program.criteria]
        named = list((case.expect.get("criteria") or {})) + list(case.expect.get("gates_failed") or [])
        from eligibility.language.expr import suggest
        bad = [c for c in named if c not in ids]
        if bad:
            raise InputError.at(case.file, case.line, 1, f"case {case.name!r}: no criterion '{bad[0]}'"
                                + suggest(str(bad[0]), ids))
        bad = [c for c in (case.expect.get("computed") or {}) if c not in program.computed]
        if bad:
            raise InputError.at(case.file, case.line, 1, f"case {case.name!r}: no computed value '{bad[0]}'"
                                + suggest(str(bad[0]), list(program.computed)))

    def close(self) -> None:
        for evaluator in {id(e): e for e in self.evaluators.values()}.values():
            evaluator.close()


def _member_id(name: str) -> str:
    """An applicant id from a population member's label (ids allow letters, digits, . _ -)."""
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in name).strip("-")[:100] or "member"


def compare(expect: dict[str, Any], ev: Evaluation) -> list[Mismatch]:
    """What the evaluation got differently from the expectations."""
    out = []
    actual_criteria = {r.id: r.outcome for r in ev.criteria}
    if "verdict" in expect and expect["verdict"] != ev.verdict:
        out.append(Mismatch("verdict", expect["verdict"], ev.verdict, tuple(ev.gates_failed)))
    if "gates_failed" in expect and sorted(expect["gates_failed"]) != sorted(ev.gates_failed):
        diff = set(expect["gates_failed"]) ^ set(ev.gates_failed)
        out.append(Mismatch("gates_failed", sorted(expect["gates_failed"]), ev.gates_failed, tuple(sorted(diff))))
    for cid, outcome in (expect.get("criteria") or {}).items():
        if actual_criteria.get(cid) != outcome:
            out.append(Mismatch(f"criteria.{cid}", outcome, actual_criteria.get(cid), (cid,)))
    if "score" in expect and float(expect["score"]) != float(ev.score):
        out.append(Mismatch("score", expect["score"], ev.score,
                            tuple(r.id for r in ev.criteria if r.kind == "scored")))
    if "missing" in expect and sorted(expect["missing"]) != sorted(ev.missing):
        out.append(Mismatch("missing", sorted(expect["missing"]), list(ev.missing)))
    if "reason" in expect and str(expect["reason"]) not in ev.reason:
        out.append(Mismatch("reason", f"... {expect['reason']} ...", ev.reason))
    for name, wanted in (expect.get("computed") or {}).items():
        got = computed_value(ev, name)
        if not _same_value(wanted, got):
            out.append(Mismatch(f"computed.{name}", wanted, show(got) if got is not None else "unknown"))
    return out


def computed_value(ev: Evaluation, name: str) -> Any:
    """A computed value of the rules file for the evaluated applicant (None when unknown)."""
    values = ev.applicant.values(ev.as_of)
    values[TODAY] = ev.today
    return compute(ev.program.computed[name].expr, values)


def _same_value(wanted: Any, got: Any) -> bool:
    if wanted == "unknown" or wanted is None:
        return got is None
    if wanted == "none":
        return got is NONE
    if isinstance(got, (dt.date, Span)) or got is NONE or got is None:
        return show(got) == str(wanted) if got is not None else False
    return not isinstance(wanted, bool) and isinstance(wanted, (int, float)) and float(wanted) == float(got)


# -- coverage -------------------------------------------------------------------------------------
def coverage_items(program: Program) -> dict[int, CoverageItem]:
    """Coverage items of a program by node id: each criterion and each leaf test."""
    out: dict[int, CoverageItem] = {}
    owners: list[tuple[str, Node, int]] = [(f"concept '{cid}'", c.condition, c.line)
                                          for cid, c in program.concepts.items()]
    owners += [(f"criterion '{c.id}'", c.condition, c.line) for c in program.criteria]
    for c in program.criteria:
        out[-1 - c.condition.id] = CoverageItem("criterion", f"criterion '{c.id}'", c.condition_text,
                                                program.path, c.line, 1)
    for owner, root, _ in owners:
        for n in root.walk():
            if isinstance(n, LEAVES):
                out[n.id] = CoverageItem("test", owner, n.text, program.path, n.line, n.col)
    return out


class Coverage:
    """What outcomes the test cases gave each criterion and each leaf test, per rules file."""

    def __init__(self) -> None:
        self.items: dict[str, dict[int, CoverageItem]] = {}

    def add(self, ev: Evaluation, rules: str) -> None:
        items = self.items.setdefault(rules, coverage_items(ev.program))
        for c in ev.program.criteria:
            items[-1 - c.condition.id].seen.add(_TRUTH[ev.outcomes.get(c.condition.id)])
        for nid, item in items.items():
            if nid >= 0:
                item.seen.add(_TRUTH[ev.outcomes.get(nid)])

    def all_items(self) -> list[CoverageItem]:
        return [i for items in self.items.values() for i in items.values()]

    @property
    def percent(self) -> float:
        items = self.all_items()
        total = 3 * len(items)
        return 100.0 * sum(len(i.seen) for i in items) / total if total else 100.0

    def untested(self) -> list[CoverageItem]:
        return sorted((i for i in self.all_items() if i.missing), key=lambda i: (i.path, i.line, i.col))


def outcome_word(truth: str, kind: str) -> str:
    return _CRITERION[truth] if kind == "criterion" else truth


# -- discovery -------------------------------------------------------------------------------------
DEFAULT_PATHS = ("rules", os.path.join("tests", "rules"))


def discover(paths: list[str]) -> list[str]:
    """Test files: `*.tests.yaml` in `rules/`, every YAML file in `tests/rules/`, or the paths given."""
    out: list[str] = []
    if not paths:
        rules_dir, tests_dir = DEFAULT_PATHS
        if os.path.isdir(rules_dir):
            out += yaml_files(rules_dir, tests=True)
        if os.path.isdir(tests_dir):
            out += yaml_files(tests_dir, tests=None)
        return out
    for path in paths:
        if os.path.isdir(path):
            out += yaml_files(path, tests=True) or yaml_files(path, tests=None)
        else:
            out.append(path)
    return out
