"""Program -> durable-rules JSON ruleset that computes every node's three-valued outcome.

Durable-rules only matches positive conditions, so each node is compiled into two
derived facts, `<id>+` (the node is true) and `<id>-` (it is false); an unknown node
derives neither. Leaves test the applicant fact directly (a missing fact matches
neither side); `and`/`or` nodes join their children's derived facts (forward
chaining); `not` and concept references only rename a child's pair, so they cost no
rule. The rule set is bounded by construction and checked against the engine's
measured limits before it is handed to the engine.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import EngineError
from .expr import And, Cmp, Has, Node, Not, OneOf, Or, Ref
from .model import Program

PROFILE, DERIVED, SENTINEL = "p", "d", "s"
SENTINEL_RULE = "~s"
JOIN_WIDTH = 8                # children per join rule; wider and/or nodes are chained
MAX_RULES = 4000              # measured: create_ruleset stays fast well past this size
MAX_PROFILE_FIELDS = 250      # the engine refuses facts with more than 252 fields (error 302)
# Measured engine limits (durable_rules_engine 2.0.28, see SECURITY.md), with a margin:
MAX_MATCHING_TESTS = 60       # alpha nodes matching one fact at once: more than 64 gives error 303
MAX_CHILD_TESTS = 500         # distinct tests under one parent node: 512 hangs the engine
MAX_RULES_PER_TEST = 250      # rules fed by one test or one derived fact: more than 255 gives error 108

_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}


def field_name(fact: str) -> str:
    return "f_" + fact


def length_field(fact: str) -> str:
    return "n_" + fact


def engine_value(value: Any) -> Any:
    """A fact value as the engine stores it: dates become day numbers, lists stay lists."""
    if isinstance(value, dt.date):
        return value.toordinal()
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass
class CompiledRuleset:
    """The durable JSON ruleset plus what the adapter needs to run it quickly."""

    rules: dict[str, dict]                      # rule name -> durable rule definition
    derive: dict[str, str]                      # rule name -> JSON of the fact its action asserts
    target: dict[str, str]                      # rule name -> name of that derived fact
    pairs: dict[int, tuple[str, str]]           # node id -> (true fact name, false fact name)
    list_facts: tuple[str, ...]
    date_facts: tuple[str, ...]
    budget: int = 0
    encode: Callable[[Mapping[str, Any]], str] = field(default=None, repr=False)  # type: ignore[assignment]

    def ruleset_json(self) -> str:
        return json.dumps(self.rules, ensure_ascii=False, separators=(",", ":"))

    def outcomes(self, derived: set[str]) -> dict[int, bool | None]:
        """Node outcomes from the set of derived fact names."""
        return {nid: True if t in derived else False if f in derived else None
                for nid, (t, f) in self.pairs.items()}


def compile_program(program: Program) -> CompiledRuleset:
    compiler = _Compiler(program)
    return compiler.run()


def _derived(name: str) -> dict:
    return {"$and": [{"t": DERIVED}, {"n": name}]}


def _on_profile(test: dict) -> dict:
    return {"all": [{"m": {"$and": [{"t": PROFILE}, test]}}]}


class _Compiler:
    def __init__(self, program: Program):
        self.program = program
        self.rules: dict[str, dict] = {}
        self.derive: dict[str, str] = {}
        self.target: dict[str, str] = {}
        self.pairs: dict[int, tuple[str, str]] = {}
        self.concept_pairs: dict[str, tuple[str, str]] = {}

    def run(self) -> CompiledRuleset:
        self.limits = _Limits(self.program)
        for name in self.program.concepts:
            self.limits.owner = ("concept", name, self.program.concepts[name].line)
            self.concept(name)
        for criterion in self.program.criteria:
            self.limits.owner = ("criterion", criterion.id, criterion.line)
            self.node(criterion.condition)
        self.add(SENTINEL_RULE, {"all": [{"m": {"t": SENTINEL}}]}, None)
        facts = self.program.facts
        lists = tuple(n for n, s in facts.items() if s.type == "list")
        dates = tuple(n for n, s in facts.items() if s.type == "date")
        if len(facts) + len(lists) + 1 > MAX_PROFILE_FIELDS:
            raise EngineError(f"{self.program.path}: {len(facts)} facts ({len(lists)} lists) need "
                              f"{len(facts) + len(lists) + 1} engine fields; the engine allows {MAX_PROFILE_FIELDS}")
        if len(self.rules) > MAX_RULES:
            raise EngineError(f"{self.program.path}: the conditions compile to {len(self.rules)} engine rules "
                              f"(limit {MAX_RULES}); simplify or split the rules file")
        return CompiledRuleset(rules=self.rules, derive=self.derive, target=self.target, pairs=self.pairs, list_facts=lists,
                               date_facts=dates, budget=2 * len(self.rules) + 16,
                               encode=_encoder(lists, dates))

    def add(self, name: str, rule: dict, asserts: str | None) -> None:
        assert name not in self.rules, name
        self.rules[name] = rule
        self.limits.rule_added(rule)
        if asserts is not None:
            self.derive[name] = json.dumps({"t": DERIVED, "n": asserts}, separators=(",", ":"))
            self.target[name] = asserts

    def concept(self, name: str) -> tuple[str, str]:
        if name not in self.concept_pairs:
            self.concept_pairs[name] = self.node(self.program.concepts[name].condition)
        return self.concept_pairs[name]

    def node(self, n: Node) -> tuple[str, str]:
        if n.id in self.pairs:
            return self.pairs[n.id]
        yes, no = f"{n.id}+", f"{n.id}-"
        if isinstance(n, Not):
            t, f = self.node(n.item)
            pair = (f, t)
        elif isinstance(n, Ref):
            t, f = self.concept(n.concept)
            pair = (f, t) if n.negated else (t, f)
        elif isinstance(n, (And, Or)):
            kids = [self.node(i) for i in n.items]
            trues = list(dict.fromkeys(k[0] for k in kids))
            falses = list(dict.fromkeys(k[1] for k in kids))
            every, anyone = (trues, falses) if isinstance(n, And) else (falses, trues)
            all_target, any_target = (yes, no) if isinstance(n, And) else (no, yes)
            self.join(every, all_target, all_target)
            for i, child in enumerate(anyone):
                self.add(f"{any_target}#{i}", {"all": [{"a": _derived(child)}]}, any_target)
            pair = (yes, no)
        else:
            self.limits.leaf(self.leaf_tests(n, True), self.leaf_tests(n, False))
            for i, test in enumerate(self.leaf_tests(n, True)):
                self.add(f"{yes}#{i}", _on_profile(test), yes)
            for i, test in enumerate(self.leaf_tests(n, False)):
                self.add(f"{no}#{i}", _on_profile(test), no)
            pair = (yes, no)
        self.pairs[n.id] = pair
        return pair

    def join(self, names: list[str], target: str, rule_name: str) -> None:
        """One rule that fires when every derived fact in `names` is present; chained when wide."""
        while len(names) > JOIN_WIDTH:
            chunks = [names[i:i + JOIN_WIDTH] for i in range(0, len(names), JOIN_WIDTH)]
            names = []
            for chunk in chunks:
                part = f"{rule_name}&{len(self.rules)}"
                self.add(part, {"all": [{f"a{j}": _derived(c)} for j, c in enumerate(chunk)]}, part)
                names.append(part)
        self.add(rule_name, {"all": [{f"a{j}": _derived(c)} for j, c in enumerate(names)]}, target)

    def leaf_tests(self, n: Node, outcome: bool) -> list[dict]:
        """Profile tests (one per engine rule; any of them proves `outcome`) for a leaf node."""
        if isinstance(n, Cmp):
            op = n.op if outcome else _NEGATE[n.op]
            return [_compare(field_name(n.fact), op, engine_value(n.value))]
        if isinstance(n, OneOf):
            f, values = field_name(n.fact), [engine_value(v) for v in n.values]
            if outcome != n.negated:
                return [{f: v} for v in values]
            return [{"$and": [{"$neq": {f: v}} for v in values]}]
        if isinstance(n, Has):
            f = field_name(n.fact)
            if outcome != n.negated:
                return [{"$iany": {f: {"$i": n.item}}}]
            return [{length_field(n.fact): 0}, {"$iall": {f: {"$neq": {"$i": n.item}}}}]
        raise TypeError(f"not a leaf: {type(n).__name__}")


class _Limits:
    """Counts what the engine's fixed-size tables will hold and refuses, naming the concept or
    criterion being compiled, a ruleset that would crash (303, 108) or hang (512 children) the engine."""

    def __init__(self, program: Program):
        self.program = program
        self.owner: tuple[str, str, int] = ("rules file", "", 0)
        self.children: set[str] = set()          # distinct tests directly under the profile discriminator
        self.derived_children: set[str] = set()  # distinct derived fact names that rules consume
        self.feeds: dict[str, int] = {}          # test or derived name -> rules it feeds
        self.signatures: set[str] = set()        # distinct leaves: each matches at most one test at once,
        self.chains = 0                          # an `$and` chain at most one more

    def refuse(self, message: str) -> None:
        from .errors import InputError, Problem
        kind, name, line = self.owner
        raise InputError(Problem(self.program.path, line, 1 if line else 0,
                                 f"{kind} '{name}': {message}; simplify it or split the rules file"))

    def leaf(self, true_tests: list[dict], false_tests: list[dict]) -> None:
        sig = json.dumps([true_tests, false_tests], sort_keys=True, default=str)
        if sig in self.signatures:
            return
        self.signatures.add(sig)
        self.chains += any("$and" in t for t in true_tests + false_tests)
        if len(self.signatures) + self.chains > MAX_MATCHING_TESTS:
            self.refuse(f"the conditions so far hold {len(self.signatures)} distinct tests on applicant facts, "
                        f"more than the engine can match on one applicant ({MAX_MATCHING_TESTS})")

    def rule_added(self, rule: dict) -> None:
        for cond in rule["all"]:
            (test,) = cond.values()
            parts = test.get("$and", [test])
            if parts[0] == {"t": PROFILE}:
                first = parts[1].get("$and", [parts[1]])[0]
                key = json.dumps(first, sort_keys=True, default=str)
                if "$iany" in first or "$iall" in first:   # the engine never shares these nodes
                    key += f"#{len(self.children)}"
                self.children.add(key)
                self.count(key, len(self.children), "tests on applicant facts")
            elif parts[0] == {"t": DERIVED}:
                name = parts[1]["n"]
                self.derived_children.add(name)
                self.count("d:" + name, len(self.derived_children), "intermediate results")

    def count(self, key: str, children: int, what: str) -> None:
        if children > MAX_CHILD_TESTS:
            self.refuse(f"the conditions so far need {children} distinct {what}; the engine hangs past "
                        f"{MAX_CHILD_TESTS}")
        self.feeds[key] = self.feeds.get(key, 0) + 1
        if self.feeds[key] > MAX_RULES_PER_TEST:
            self.refuse(f"one test or concept is used by more than {MAX_RULES_PER_TEST} engine rules "
                        "(the engine's limit is 255)")


def _compare(field_: str, op: str, value: Any) -> dict:
    if op == "==":
        return {field_: value}
    return {_DURABLE_OP[op]: {field_: value}}


def _encoder(lists: tuple[str, ...], dates: tuple[str, ...]) -> Callable[[Mapping[str, Any]], str]:
    """A function turning known fact values into the engine's profile JSON."""
    list_set, date_set = frozenset(lists), frozenset(dates)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def encode(values: Mapping[str, Any]) -> str:
        out: dict[str, Any] = {"t": PROFILE}
        for name, value in values.items():
            if value is None:
                continue
            if name in list_set:
                out["f_" + name] = list(value)
                out["n_" + name] = len(value)
            elif name in date_set:
                out["f_" + name] = value.toordinal()
            else:
                out["f_" + name] = value
        return dumps(out)

    return encode
