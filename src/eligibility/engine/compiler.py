"""Program -> durable-rules JSON ruleset that computes every node's three-valued outcome.

Durable-rules only matches positive conditions, so each node gets two outcomes, `<id>+`
(the node is true) and `<id>-` (it is false); an unknown node fires neither. Leaves test
the applicant fact directly (a missing fact matches neither side). An `and`/`or` node is,
when it fits, compiled flat: its true and false outcomes written out as conjunctions of
its leaves' tests on the same profile fact, one rule per conjunction, so it fires straight
from the profile. Otherwise it joins its children's derived facts (forward chaining).
`not` and concept references only rename a child's pair, so they cost no rule. The rule
set is bounded by construction and checked against the engine's measured limits before
it is handed to the engine.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from eligibility.core.errors import EngineError, InputError, Problem
from eligibility.engine.python import value_fn
from eligibility.engine.result import Firing
from eligibility.language.expr import And, Cmp, Compare, Has, IsTest, Node, Not, OneOf, Or, Ref
from eligibility.language.model import LEAVES, Program, leaf_facts
from eligibility.language.numeric import NONE, Const, Expr, FactRef, engine_number, facts_of

PROFILE, DERIVED, SENTINEL = "p", "d", "s"
SENTINEL_RULE = "~s"
JOIN_WIDTH = 8                # children per join rule; wider and/or nodes are chained
MAX_RULES = 4000              # measured: create_ruleset stays fast well past this size
MAX_PROFILE_FIELDS = 250      # the engine refuses facts with more than 252 fields (error 302)
# Measured engine limits (durable_rules_engine 2.0.28, see SECURITY.md), with a margin:
MAX_MATCHING_TESTS = 60       # alpha nodes matching one fact at once: more than 64 gives error 303
MAX_CHILD_TESTS = 500         # distinct tests under one parent node: 512 hangs the engine
MAX_RULES_PER_TEST = 250      # rules fed by one test or one derived fact: more than 255 gives error 108
DERIVED_PER_TAG = 200         # derived fact names per discriminator (each adds a child under it)
# A flat node's outcome is at most FLAT_MAX_TERMS conjunctions of at most FLAT_MAX_TESTS tests each
# (the engine keeps at most 32 expressions per rule); past either it is chained instead.
FLAT_MAX_TERMS = 8
FLAT_MAX_TESTS = 24

_NEGATE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_MIRROR = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
COMPUTED = "X"                # computed-field names: X0, X1, ... (fact names are lower case)
MARKER = "N"                  # N<name>: 1 when a fact or computed value is none (its own field is then absent)
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
    tested_facts: dict[int, tuple[str, ...]] = field(default_factory=dict)  # node id -> facts its own rules test
    budget: int = 0
    encode: Callable[[Mapping[str, Any]], tuple[str, ...]] = field(default=None, repr=False)  # type: ignore[assignment]
    # rule name -> the (node id, outcome) pairs its derived fact settles; every node unknown
    settles: dict[str, tuple[tuple[int, bool], ...]] = field(init=False, repr=False)
    unknown: dict[int, None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_fact: dict[str, list[tuple[int, bool]]] = {}
        for nid, (t, f) in self.pairs.items():
            by_fact.setdefault(t, []).append((nid, True))
            by_fact.setdefault(f, []).append((nid, False))
        self.settles = {r: tuple(by_fact[name]) for r, name in self.target.items() if name in by_fact}
        self.unknown = dict.fromkeys(self.pairs)

    def ruleset_json(self) -> str:
        return json.dumps(self.rules, ensure_ascii=False, separators=(",", ":"))

    def outcomes_of_rules(self, fired: list[str]) -> dict[int, bool | None]:
        """Node outcomes from the names of the fired rules: a node is true when a rule asserting its
        true fact fired, else false when one asserting its false fact fired, else unknown."""
        sets, out = self.settles, self.unknown.copy()
        for rule in fired:
            for nid, value in sets.get(rule, ()):
                if value or out[nid] is None:     # a node's true fact wins, as in outcomes()
                    out[nid] = value
        return out

    def decode_firing(self, rule: str, message: str) -> Firing:
        """A firing from the engine's match message: for each alias, the derived fact it matched, or
        the profile fields the rule's test read (with the applicant's values), or the sentinel."""
        digits = rule[:len(rule) - len(rule.lstrip("0123456789"))]
        facts = self.tested_facts.get(int(digits), ()) if digits else ()
        matched: dict[str, dict[str, Any]] = {}
        try:
            body = json.loads(message)
            for alias, doc in next(iter(body.values())).items():
                tag = str(doc.get("t", ""))
                if tag.startswith(DERIVED):
                    matched[alias] = {"derived": doc.get("n")}
                elif tag.startswith(PROFILE):
                    # a list's length field is read from its value, which is shown instead
                    matched[alias] = {"profile": {f: doc[field_name(f)] for f in facts if field_name(f) in doc}}
                else:
                    matched[alias] = {"sentinel": True}
        except (ValueError, AttributeError, StopIteration):
            matched = {"raw": message}
        return Firing(rule, matched)


def compile_program(program: Program) -> CompiledRuleset:
    compiler = _Compiler(program)
    return compiler.run()


class _Compiler:
    def __init__(self, program: Program):
        self.program = program
        self.rules: dict[str, dict] = {}
        self.derive: dict[str, str] = {}
        self.target: dict[str, str] = {}
        self.pairs: dict[int, tuple[str, str]] = {}
        self.concept_pairs: dict[str, tuple[str, str]] = {}
        self.computed: dict[str, tuple[str, Expr]] = {}    # expression signature -> (field, expression)
        self.leaf_pairs: dict[str, tuple[str, str]] = {}   # a leaf's engine tests -> the pair they derive
        self.uses: dict[str, int] = {}                     # derived fact -> rules conditioned on it
        self.relay: dict[str, str] = {}                    # derived fact -> its relay copy now in use
        self.leaf_tag: dict[int, str] = {}                 # leaf node id -> its profile shard's tag
        self.flat_facts: dict[int, tuple[str, ...]] = {}   # flat node id -> the facts its rules test
        self.term_memo: dict[tuple[int, bool], list[tuple[str, ...]] | None] = {}
        self.optional = {name for name, spec in program.facts.items() if spec.optional}

    def run(self) -> CompiledRuleset:
        self.limits = _Shards(self.program)
        for name in self.program.concepts:
            self.limits.owner = ("concept", name, self.program.concepts[name].line)
            self.concept(name)
        for criterion in self.program.criteria:
            self.limits.owner = ("criterion", criterion.id, criterion.line)
            self.node(criterion.condition)
        self.add(SENTINEL_RULE, {"all": [{"m": {"t": SENTINEL}}]}, None)
        facts = self.program.facts
        if len(self.rules) > MAX_RULES:
            raise EngineError(f"{self.program.path}: the conditions compile to {len(self.rules)} engine rules "
                              f"(limit {MAX_RULES}); simplify or split the rules file")
        shard_fields = [sorted(f) for f in self.limits.fields]
        types = {n: s.type for n, s in facts.items()} | {name: "float" for name, _ in self.computed.values()}
        types |= {f: "int" for fields in shard_fields for f in fields if f not in types}   # none markers
        encode = _encoder(shard_fields, types, self.limits.always)
        if self.computed or self.optional:
            encode = _with_derived(encode, sorted(self.optional),
                                   [(name, value_fn(e)) for name, e in self.computed.values()])
        tested = {n.id: tuple(leaf_facts(n)) for c in [*self.program.concepts.values(), *self.program.criteria]
                  for n in c.condition.walk() if isinstance(n, LEAVES)} | self.flat_facts
        # a derived fact no rule reads is not asserted: a flat node's children settle their own nodes only
        derive = {rule: fact for rule, fact in self.derive.items() if self.target[rule] in self.uses}
        return CompiledRuleset(rules=self.rules, derive=derive, target=self.target, pairs=self.pairs,
                               tested_facts=tested, budget=2 * len(self.rules) + 16, encode=encode)

    def add(self, name: str, rule: dict, asserts: str | None) -> None:
        assert name not in self.rules, name
        self.rules[name] = rule
        self.limits.rule_added(rule)
        if asserts is not None:
            self.derive[name] = json.dumps({"t": self.limits.derived_tag(asserts), "n": asserts}, separators=(",", ":"))
            self.target[name] = asserts

    def derived(self, name: str) -> dict:
        """A condition on derived fact `name`. The engine feeds at most 255 rules from one fact, so
        past MAX_RULES_PER_TEST consumers the condition is on a relay: a copy of the fact asserted
        under another name by a rule on the last copy (one more firing, same outcome)."""
        current = self.relay.get(name, name)
        if self.uses.get(current, 0) >= MAX_RULES_PER_TEST - 1:
            relay = f"{name}@{len(self.rules)}"
            self.uses[current] += 1
            self.add(relay, {"all": [{"a": self.on_derived(current)}]}, relay)
            current = self.relay[name] = relay
        self.uses[current] = self.uses.get(current, 0) + 1
        return self.on_derived(current)

    def on_derived(self, name: str) -> dict:
        return {"$and": [{"t": self.limits.derived_tag(name)}, {"n": name}]}

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
            if not self.flat(n, yes, no):
                self.join(every, all_target, all_target)
                for i, child in enumerate(anyone):
                    self.add(f"{any_target}#{i}", {"all": [{"a": self.derived(child)}]}, any_target)
            pair = (yes, no)
        else:
            true_tests, false_tests = self.leaf_tests(n, True), self.leaf_tests(n, False)
            sig = json.dumps([true_tests, false_tests], sort_keys=True, default=str)
            mirror = json.dumps([false_tests, true_tests], sort_keys=True, default=str)
            if sig in self.leaf_pairs:      # the same test elsewhere: its rules already derive the pair
                pair = self.leaf_pairs[sig]
                self.leaf_tag[n.id] = self.limits.placed[sig]
            elif mirror in self.leaf_pairs:   # its negation elsewhere: the same rules, outcomes swapped
                pair = self.leaf_pairs[mirror][::-1]
                self.leaf_tag[n.id] = self.limits.placed[mirror]
            else:
                tag = self.limits.place_leaf(self.leaf_fields(n), true_tests, false_tests,
                                             always=isinstance(n, IsTest) and n.test == "known")
                for i, test in enumerate(true_tests):
                    self.add(f"{yes}#{i}", _chain(tag, _atoms(test)), yes)
                for i, test in enumerate(false_tests):
                    self.add(f"{no}#{i}", _chain(tag, _atoms(test)), no)
                pair = self.leaf_pairs[sig] = (yes, no)
                self.leaf_tag[n.id] = tag
        self.pairs[n.id] = pair
        return pair

    def flat(self, n: And | Or, yes: str, no: str) -> bool:
        """Compile `n` flat when it fits: each outcome as rules on the profile shard holding all its
        leaves, one per conjunction of leaf tests that proves it (see `terms`). False, and nothing
        added, when its leaves span shards, its terms are past the FLAT_ limits, or its rules would
        take the shard past the engine's limits; it is then chained."""
        leaves = list(_leaves(self.program, n))
        tags = {self.leaf_tag[leaf.id] for leaf in leaves}
        if len(tags) != 1:
            return False
        (tag,) = tags
        trues, falses = self.terms(n, True), self.terms(n, False)
        if trues is None or falses is None:
            return False
        if not self.limits.place_terms(tag, trues + falses):
            return False
        for name, terms in ((yes, trues), (no, falses)):
            for i, term in enumerate(terms):
                self.add(f"{name}#{i}", _chain(tag, [json.loads(t) for t in term]), name)
        self.flat_facts[n.id] = tuple(dict.fromkeys(f for leaf in leaves for f in leaf_facts(leaf)))
        return True

    def terms(self, n: Node, outcome: bool) -> list[tuple[str, ...]] | None:
        """The conjunctions of leaf tests (each test as canonical JSON) of which any one proves
        `outcome` for `n`, by three-valued logic: `and` is true when every child is, false when any
        child is; `or` the reverse. None past FLAT_MAX_TERMS or FLAT_MAX_TESTS."""
        key = (n.id, outcome)
        if key not in self.term_memo:
            self.term_memo[key] = self._terms(n, outcome)
        return self.term_memo[key]

    def _terms(self, n: Node, outcome: bool) -> list[tuple[str, ...]] | None:
        if isinstance(n, Not):
            return self.terms(n.item, not outcome)
        if isinstance(n, Ref):
            return self.terms(self.program.concepts[n.concept].condition, outcome != n.negated)
        if isinstance(n, (And, Or)):
            parts = [self.terms(item, outcome) for item in n.items]
            if any(p is None for p in parts):
                return None
            if isinstance(n, And) == outcome:         # every child must prove it: a product
                out: list[tuple[str, ...]] = [()]
                for part in parts:
                    out = [tuple(dict.fromkeys(a + b)) for a in out for b in part]   # type: ignore[union-attr]
                    if len(out) > FLAT_MAX_TERMS:
                        return None
            else:                                      # any child proves it: a union
                out = [t for part in parts for t in part]   # type: ignore[union-attr]
        else:
            out = [tuple(json.dumps(a, sort_keys=True) for a in _atoms(t)) for t in self.leaf_tests(n, outcome)]
        out = list(dict.fromkeys(out))
        if len(out) > FLAT_MAX_TERMS or any(len(t) > FLAT_MAX_TESTS for t in out):
            return None
        return out

    def join(self, names: list[str], target: str, rule_name: str) -> None:
        """One rule that fires when every derived fact in `names` is present; chained when wide."""
        while len(names) > JOIN_WIDTH:
            chunks = [names[i:i + JOIN_WIDTH] for i in range(0, len(names), JOIN_WIDTH)]
            names = []
            for chunk in chunks:
                part = f"{rule_name}&{len(self.rules)}"
                self.add(part, {"all": [{f"a{j}": self.derived(c)} for j, c in enumerate(chunk)]}, part)
                names.append(part)
        self.add(rule_name, {"all": [{f"a{j}": self.derived(c)} for j, c in enumerate(names)]}, target)

    def leaf_fields(self, n: Node) -> list[str]:
        """The profile fields (facts and computed values) a leaf's tests read."""
        if isinstance(n, Compare):
            fields = [side for side in (self.side(n.left), self.side(n.right)) if isinstance(side, str)]
            return fields + self.none_markers(n)
        return [n.fact] + ([MARKER + n.fact] if n.fact in self.optional else [])

    def none_markers(self, n: Compare) -> list[str]:
        """The none markers of a comparison's sides that can be none (they read an optional fact)."""
        return [MARKER + side for side, expr in ((self.side(n.left), n.left), (self.side(n.right), n.right))
                if isinstance(side, str) and set(facts_of(expr)) & self.optional]

    def none_tests(self, n: Node, outcome: bool) -> list[dict]:
        """Tests proving `outcome` because a fact or side is none: none equals nothing and has no
        order, so `!=` is true and every other comparison false; `in [..]` is false."""
        if isinstance(n, Compare):
            markers = self.none_markers(n) if outcome == (n.op == "!=") else []
        elif isinstance(n, (Cmp, OneOf)) and n.fact in self.optional:
            markers = [MARKER + n.fact] if outcome == ((n.op == "!=") if isinstance(n, Cmp) else n.negated) else []
        else:
            markers = []
        return [{field_name(m): 1} for m in markers]

    def is_tests(self, n: IsTest, outcome: bool) -> list[dict]:
        """`is known`: the field or its none marker is present (or both absent, for false);
        `is none`: the marker is present (the field, for false). Unknown proves neither."""
        f = field_name(n.fact)
        m = field_name(MARKER + n.fact) if n.fact in self.optional else None
        if n.test == "known":
            if outcome != n.negated:
                return [{"$ex": {f: 1}}] + ([{m: 1}] if m else [])
            return [{"$and": [{"$nex": {f: 1}}] + ([{"$nex": {m: 1}}] if m else [])}]
        assert m is not None
        return [{m: 1}] if outcome != n.negated else [{"$ex": {f: 1}}]

    def side(self, expr: Expr) -> Any:
        """A comparison side in the engine: ("const", value), or the name of the field holding it."""
        if isinstance(expr, Const):
            return ("const", engine_value(engine_number(expr.value)))
        if isinstance(expr, FactRef):
            return expr.fact
        sig = _signature(expr)
        if sig not in self.computed:
            self.computed[sig] = (f"{COMPUTED}{len(self.computed)}", expr)
        return self.computed[sig][0]

    def value_test(self, n: Compare, outcome: bool) -> dict:
        """`left OP right` as an engine test. A field compared with a field is guarded by `$ex` on
        both: durable makes a comparison whose referenced field is missing always match."""
        op = n.op if outcome else _NEGATE[n.op]
        left, right = self.side(n.left), self.side(n.right)
        if isinstance(left, tuple):
            left, right, op = right, left, _MIRROR[op]
        if isinstance(right, tuple):
            return _compare(field_name(left), op, right[1])
        lf, rf = field_name(left), field_name(right)
        ref = {"$m": rf}
        test = {lf: ref} if op == "==" else {_DURABLE_OP[op]: {lf: ref}}
        return {"$and": [{"$ex": {lf: 1}}, {"$ex": {rf: 1}}, test]}

    def leaf_tests(self, n: Node, outcome: bool) -> list[dict]:
        """Profile tests (one per engine rule; any of them proves `outcome`) for a leaf node."""
        if isinstance(n, IsTest):
            return self.is_tests(n, outcome)
        extra = self.none_tests(n, outcome)
        if isinstance(n, Compare):
            return [self.value_test(n, outcome)] + extra
        if isinstance(n, (Cmp, OneOf)) and extra:
            return self.plain_tests(n, outcome) + extra
        return self.plain_tests(n, outcome)

    def plain_tests(self, n: Node, outcome: bool) -> list[dict]:
        """Tests of a leaf on a fact's value (none aside)."""
        if isinstance(n, Cmp):
            op = n.op if outcome else _NEGATE[n.op]
            return [_compare(field_name(n.fact), op, engine_value(n.value))]
        if isinstance(n, OneOf):
            f, values = field_name(n.fact), list(dict.fromkeys(engine_value(v) for v in n.values))
            if outcome != n.negated:
                return [{f: v} for v in values]
            return [{"$and": [{"$neq": {f: v}} for v in values]}]
        if isinstance(n, Has):
            f = field_name(n.fact)
            if outcome != n.negated:
                return [{"$iany": {f: {"$i": n.item}}}]
            return [{length_field(n.fact): 0}, {"$iall": {f: {"$neq": {"$i": n.item}}}}]
        raise TypeError(f"not a leaf: {type(n).__name__}")


def _chain(tag: str, tests: list[dict]) -> dict:
    """A rule on the profile shard `tag` that fires when every test holds (the engine chains them)."""
    return {"all": [{"m": {"$and": [{"t": tag}, *tests]}}]}


def _atoms(test: dict) -> list[dict]:
    """A test as the list of tests it is the conjunction of (an `$and` opened up)."""
    if list(test) == ["$and"]:
        return [a for part in test["$and"] for a in _atoms(part)]
    return [test]


def _never_shared(test: str) -> bool:
    """The engine builds a node of its own for every list test (`$iany`, `$iall`), even equal ones."""
    return '"$iany"' in test or '"$iall"' in test


def _leaves(program: Program, n: Node):
    """The leaves under `n`, through the concepts it refers to."""
    if isinstance(n, Ref):
        yield from _leaves(program, program.concepts[n.concept].condition)
    elif isinstance(n, Not):
        yield from _leaves(program, n.item)
    elif isinstance(n, (And, Or)):
        for item in n.items:
            yield from _leaves(program, item)
    else:
        yield n


class _Shards:
    """Keeps every engine fact within the engine's fixed-size tables by sharding.

    The engine matches at most 64 tests against one asserted fact (error 303), hangs with 512
    distinct tests under one node, and takes at most 252 fields per fact (error 302). So the
    applicant's profile is asserted as several facts, one per shard of leaf tests (`t`: p0, p1,
    ...), each carrying only the fields its tests read, and derived facts are spread over
    discriminators d0, d1, ... A test or derived fact that feeds more than 250 rules (error 108
    past 255) cannot be sharded: that is refused, naming the concept or criterion."""

    def __init__(self, program: Program):
        self.program = program
        self.owner: tuple[str, str, int] = ("rules file", "", 0)
        self.fields: list[set[str]] = [set()]      # applicant facts each profile shard carries
        self.matching = [0]                        # per shard: tests that can match at once
        self.children: list[set[str]] = [set()]    # per shard: distinct first tests under its discriminator
        self.placed: dict[str, str] = {}           # leaf signature -> its shard's tag
        self.dtags: dict[str, str] = {}            # derived fact name -> its discriminator
        self.feeds: dict[str, int] = {}            # test or derived name -> rules it feeds
        self.always: set[int] = set()              # shards asserted even with no known field
        self.prefixes: list[set[tuple[str, ...]]] = [set()]   # per shard: the flat rules' chains of tests

    def refuse(self, message: str) -> None:
        kind, name, line = self.owner
        raise InputError(Problem(self.program.path, line, 1 if line else 0,
                                 f"{kind} '{name}': {message}; simplify it or split the rules file"))

    def place_leaf(self, facts: list[str], true_tests: list[dict], false_tests: list[dict],
                   always: bool = False) -> str:
        """The profile shard (its `t` tag) for a leaf's tests, opening a new shard when one is full."""
        sig = json.dumps([true_tests, false_tests], sort_keys=True, default=str)
        if sig in self.placed:
            return self.placed[sig]
        # a leaf matches one of its tests at once, plus one for an `$and` chain head
        matching = 1 + any("$and" in t for t in true_tests + false_tests)
        children = len(true_tests) + len(false_tests)
        k = len(self.fields) - 1
        if (self.matching[k] + matching > MAX_MATCHING_TESTS or len(self.children[k]) + children > MAX_CHILD_TESTS
                or self.field_count(self.fields[k] | set(facts)) > MAX_PROFILE_FIELDS):
            if not self.fields[k]:
                self.refuse(f"one test needs {children} engine conditions (limit {MAX_CHILD_TESTS})")
            self.fields.append(set())
            self.matching.append(0)
            self.children.append(set())
            self.prefixes.append(set())
            k += 1
        self.fields[k].update(facts)
        self.matching[k] += matching
        if always:             # a test of absence: the shard must be asserted even when all its facts are
            self.always.add(k)
        tag = f"{PROFILE}{k}"
        self.placed[sig] = tag
        return tag

    def place_terms(self, tag: str, terms: list[tuple[str, ...]]) -> bool:
        """Whether a flat node's rules (one chain of tests per term) fit in shard `tag`, counting
        them in when they do. A term's first test is one of its leaves' own (a node the engine
        already has under the discriminator, counted with the leaf), except a list test, which the
        engine never shares; every further node of a chain not built before is counted as one
        more test that can match at once, which bounds the engine's match stack from above."""
        k = int(tag[len(PROFILE):])
        new: set[tuple[str, ...]] = set()
        extra = 0
        heads: dict[str, int] = {}
        for term in terms:
            heads[term[0]] = heads.get(term[0], 0) + 1
            for i in range(len(term)):
                prefix = term[:i + 1]
                if any(map(_never_shared, prefix)):
                    extra += 1
                elif i and prefix not in self.prefixes[k] and prefix not in new:
                    new.add(prefix)
                    extra += 1
        crowded = any(self.feeds.get(f"{tag}:{head}", 0) + count > MAX_RULES_PER_TEST
                      for head, count in heads.items() if not _never_shared(head))
        if crowded or self.matching[k] + extra > MAX_MATCHING_TESTS:
            return False
        self.matching[k] += extra
        self.prefixes[k] |= new
        return True

    def field_count(self, facts: set[str]) -> int:
        """Engine fields of a shard fact: its tag, one per fact, one more per list (its length)."""
        specs = self.program.facts
        return 1 + sum(2 if f in specs and specs[f].type == "list" else 1 for f in facts)

    def derived_tag(self, name: str) -> str:
        """The discriminator of a derived fact: a new one every DERIVED_PER_TAG names."""
        tag = self.dtags.get(name)
        if tag is None:
            tag = self.dtags[name] = f"{DERIVED}{len(self.dtags) // DERIVED_PER_TAG}"
        return tag

    def rule_added(self, rule: dict) -> None:
        for cond in rule["all"]:
            (test,) = cond.values()
            parts = test.get("$and", [test])
            tag = parts[0].get("t", "") if isinstance(parts[0], dict) else ""
            if tag.startswith(PROFILE) and len(parts) > 1:
                k = int(tag[len(PROFILE):])
                first = parts[1].get("$and", [parts[1]])[0]
                key = json.dumps(first, sort_keys=True, default=str)
                if "$iany" in first or "$iall" in first:   # the engine never shares these nodes
                    key += f"#{len(self.children[k])}"
                self.children[k].add(key)
                self.count(f"{tag}:{key}")
            elif tag.startswith(DERIVED) and len(parts) > 1:
                self.count("d:" + parts[1]["n"])

    def count(self, key: str) -> None:
        self.feeds[key] = self.feeds.get(key, 0) + 1
        if self.feeds[key] > MAX_RULES_PER_TEST:
            self.refuse(f"one test or concept is used by more than {MAX_RULES_PER_TEST} engine rules "
                        "(the engine's limit is 255)")


def _signature(expr: Expr) -> str:
    """Equal for structurally equal expressions (they share one computed field)."""
    parts = [type(expr).__name__, getattr(expr, "op", ""), getattr(expr, "func", ""), getattr(expr, "fact", ""),
             getattr(expr, "name", ""),
             repr(getattr(expr, "value", None))]
    return "(" + " ".join(parts + [_signature(p) for p in expr.parts()]) + ")"


def _with_derived(encode: Callable[[Mapping[str, Any]], tuple[str, ...]], optional: list[str],
                  computed: list[tuple[str, Callable[[Mapping[str, Any]], Any]]]
                  ) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """`encode`, with each computed value added to the profile (left out when unknown), and a
    none marker in place of each value that is none."""
    def encode_with(values: Mapping[str, Any]) -> tuple[str, ...]:
        extended = dict(values)
        for name in optional:
            if extended.get(name) is NONE:
                del extended[name]
                extended[MARKER + name] = 1
        for name, fn in computed:
            value = fn(values)
            if value is NONE:
                extended[MARKER + name] = 1
            elif value is not None:
                extended[name] = engine_number(value)
        return encode(extended)
    return encode_with


def _compare(field_: str, op: str, value: Any) -> dict:
    if op == "==":
        return {field_: value}
    return {_DURABLE_OP[op]: {field_: value}}


_KNOWN_PIECES = 1024        # fact texts kept per fact
_TEXT_KEPT = ("bool", "string", "enum", "list", "date")


def _encoder(shards: list[list[str]], types: Mapping[str, str],
             always: set[int] = frozenset()) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:  # type: ignore[assignment]
    """A function turning known fact values into the engine's profile facts, one JSON text per shard
    (shards whose facts are all unknown are left out, but there is always at least one).

    The text is what `json.dumps(fields, separators=(",", ":"), ensure_ascii=False)` gives for
    the shard's fields (`t`, then `f_<fact>`, plus `n_<fact>` for lists, in the shard's order),
    put together from one small formatter per fact type instead of going through a dict."""
    string = json.encoder.encode_basestring
    formats: dict[str, Callable[[Any], str]] = {
        "bool": lambda v: "true" if v else "false",
        "int": repr,
        "float": repr,                      # an int or a finite float, as json writes them
        "string": string,
        "enum": string,
        "date": lambda v: str(v.toordinal()),
        "list": lambda v: "[" + ",".join(map(string, v)) + "]",
    }
    plans = []
    for k, names in enumerate(shards):
        fields = []
        for name in names:
            key, text = f",{string(field_name(name))}:", formats[types[name]]
            count = f",{string(length_field(name))}:" if types[name] == "list" else None
            # a value's text is kept for the types where equal values have equal texts (not so for
            # numbers: 1, 1.0 and True are equal)
            fields.append((name, key, text, count, {} if types[name] in _TEXT_KEPT else None))
        plans.append(('{"t":"%s%d"' % (PROFILE, k), tuple(fields), k in always))

    def piece(value: Any, key: str, text: Callable[[Any], str], count: str | None) -> str:
        return key + text(value) + (count + str(len(value)) if count is not None else "")

    def encode(values: Mapping[str, Any]) -> tuple[str, ...]:
        docs = []
        for head, fields, kept in plans:
            parts = [head]
            for name, key, text, count, known in fields:
                value = values.get(name)
                if value is not None:
                    if known is None:
                        parts.append(piece(value, key, text, count))
                        continue
                    try:
                        done = known.get(value)
                    except TypeError:             # unhashable (a list given where a tuple is usual)
                        parts.append(piece(value, key, text, count))
                        continue
                    if done is None:
                        if len(known) >= _KNOWN_PIECES:
                            known.clear()
                        done = known[value] = piece(value, key, text, count)
                    parts.append(done)
            if len(parts) > 1 or kept:
                parts.append("}")
                docs.append("".join(parts))
        return tuple(docs) or (plans[0][0] + "}",)

    return encode
