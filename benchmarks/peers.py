"""The shipped rules written for three other rule engines, for benchmarks/bench.py --peers.

Each peer gets the same conditions as bench.plain_verdict, in its own language, with the same
three-valued logic (an unknown fact is null: a test on it is unknown, `and` is false as soon
as one part is false, `or` true as soon as one part is true), and returns the verdict. The
benchmark checks every peer against eligibility on every applicant before timing it.

    zen-engine (GoRules ZEN expression in a JDM expression node; one by one and evaluate_batch)
    json-logic-qubit (a JsonLogic rule)
    rule-engine (one rule-engine expression)

Installed with the `bench` extra: pip install -e '.[bench]'.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from timing import timing_starts

FACTS = ("in_house_architecture", "pretrained_from_scratch", "initialised_from_foreign_weights",
         "foreign_partner_dependency", "model_generations", "planned_modalities", "open_weights_released",
         "commercial_use_allowed", "commercial_deployment")
POINTS = (30, 25, 25, 20)
THRESHOLD = 50


def context(facts: dict) -> dict:
    """A profile's facts as the peers read them: every fact present, unknown ones as null."""
    return {k: (None if facts.get(k, "unknown") == "unknown" else facts[k]) for k in FACTS}


# --- ZEN and rule-engine share this expression syntax (null, and/or/not, ?:, in) -------------

def _and3(*xs: str) -> str:
    return (f"(({' or '.join(f'{x} == false' for x in xs)}) ? false : "
            f"(({' or '.join(f'{x} == null' for x in xs)}) ? null : true))")


def _or3(*xs: str) -> str:
    return (f"(({' or '.join(f'{x} == true' for x in xs)}) ? true : "
            f"(({' or '.join(f'{x} == null' for x in xs)}) ? null : false))")


def _known(fact: str, test: str) -> str:
    return f"({fact} == null ? null : ({test}))"


def text_rule() -> str:
    gates = (_and3("in_house_architecture", "pretrained_from_scratch",
                   _known("initialised_from_foreign_weights", "not initialised_from_foreign_weights")),
             _known("foreign_partner_dependency", "foreign_partner_dependency != 'heavy'"))
    scored = (_known("planned_modalities", "'image' in planned_modalities or 'video' in planned_modalities "
                                           "or 'audio' in planned_modalities"),
              _known("model_generations", "model_generations >= 2"),
              "open_weights_released",
              _or3("commercial_use_allowed", "commercial_deployment"))
    score = " + ".join(f"({s} == true ? {p} : 0)" for s, p in zip(scored, POINTS))
    best = score + " + " + " + ".join(f"({s} == null ? {p} : 0)" for s, p in zip(scored, POINTS))
    return (f"(({gates[0]}) == false or ({gates[1]}) == false or ({best}) < {THRESHOLD}) ? 'excluded' : "
            f"((({gates[0]}) != null and ({gates[1]}) != null and ({score}) >= {THRESHOLD}) ? 'selected' : 'undetermined')")


# --- JsonLogic --------------------------------------------------------------------------------

def _v(name: str) -> dict:
    return {"var": name}


def _is(x: Any, value: Any) -> dict:
    return {"===": [x, value]}


def _jl_known(fact: str, test: Any) -> dict:
    return {"if": [_is(_v(fact), None), None, test]}


def _jl_and3(*xs: Any) -> dict:
    return {"if": [{"or": [_is(x, False) for x in xs]}, False, {"or": [_is(x, None) for x in xs]}, None, True]}


def _jl_or3(*xs: Any) -> dict:
    return {"if": [{"or": [_is(x, True) for x in xs]}, True, {"or": [_is(x, None) for x in xs]}, None, False]}


def jsonlogic_rule() -> dict:
    gates = (_jl_and3(_v("in_house_architecture"), _v("pretrained_from_scratch"),
                      _jl_known("initialised_from_foreign_weights", {"!": _v("initialised_from_foreign_weights")})),
             _jl_known("foreign_partner_dependency", {"!==": [_v("foreign_partner_dependency"), "heavy"]}))
    scored = (_jl_known("planned_modalities", {"or": [{"in": [m, _v("planned_modalities")]}
                                                      for m in ("image", "video", "audio")]}),
              _jl_known("model_generations", {">=": [_v("model_generations"), 2]}),
              _v("open_weights_released"),
              _jl_or3(_v("commercial_use_allowed"), _v("commercial_deployment")))
    score = {"+": [{"if": [_is(s, True), p, 0]} for s, p in zip(scored, POINTS)]}
    best = {"+": [score, *({"if": [_is(s, None), p, 0]} for s, p in zip(scored, POINTS))]}
    return {"if": [{"or": [_is(gates[0], False), _is(gates[1], False), {"<": [best, THRESHOLD]}]}, "excluded",
                   {"and": [{"!==": [gates[0], None]}, {"!==": [gates[1], None]}, {">=": [score, THRESHOLD]}]},
                   "selected", "undetermined"]}


# --- runners: each returns (seconds, verdicts) for a list of contexts --------------------------

def run_zen(contexts: list[dict], batch: bool) -> tuple[float, list[str]]:
    import zen
    content = json.dumps({"nodes": [
        {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
        {"id": "rule", "type": "expressionNode", "name": "rule", "position": {"x": 1, "y": 0},
         "content": {"expressions": [{"id": "v", "key": "verdict", "value": text_rule()}]}},
        {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 2, "y": 0}}],
        "edges": [{"id": "a", "sourceId": "in", "targetId": "rule", "type": "edge"},
                  {"id": "b", "sourceId": "rule", "targetId": "out", "type": "edge"}]})
    engine = zen.ZenEngine({"loader": lambda key: content})
    if batch:
        t = timing_starts()
        out = engine.evaluate_batch([{"key": "rules", "context": c} for c in contexts])
        dt = time.perf_counter() - t
        return dt, [r["data"]["result"]["verdict"] if r.get("success") else f"error: {r}" for r in out]
    decision = engine.create_decision(content)
    t = timing_starts()
    verdicts = [decision.evaluate(c)["result"]["verdict"] for c in contexts]
    return time.perf_counter() - t, verdicts


def run_jsonlogic(contexts: list[dict]) -> tuple[float, list[str]]:
    from json_logic import jsonLogic
    rule = jsonlogic_rule()
    t = timing_starts()
    verdicts = [jsonLogic(rule, c) for c in contexts]
    return time.perf_counter() - t, verdicts


def run_rule_engine(contexts: list[dict]) -> tuple[float, list[str]]:
    import rule_engine
    rule = rule_engine.Rule(text_rule(), context=rule_engine.Context(default_value=None))
    t = timing_starts()
    verdicts = [rule.evaluate(c) for c in contexts]
    return time.perf_counter() - t, verdicts


PEERS: dict[str, Callable[[list[dict]], tuple[float, list[str]]]] = {
    "zen-batch": lambda cs: run_zen(cs, batch=True),
    "zen-1by1": lambda cs: run_zen(cs, batch=False),
    "json-logic": run_jsonlogic,
    "rule-engine": run_rule_engine,
}
