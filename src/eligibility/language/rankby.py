"""`decision.rank_by`: the keys the eligible applicants are ranked by, read with positions.

An item is a key's name (`score`, `name`) or `{key: NAME, order: desc|asc}`. The built-in keys
have a natural order (score, criteria_order and gates_met highest first; name and id
alphabetical); a fact or computed value must say its order. `id` is added last when absent, so
the order is total.
"""
from __future__ import annotations

from typing import Any, Mapping

from eligibility.language.exprbase import suggest
from eligibility.language.fields import Reader
from eligibility.language.model import BUILTIN_RANK_KEYS, ComputedValue, DecisionPolicy, FactSpec, RankKey
from eligibility.language.numeric import facts_of
from eligibility.language.yamlsafe import YList, YMap

ORDERS = {"desc": True, "asc": False}
NATURAL_DESC = ("score", "criteria_order", "gates_met")
RANKABLE_TYPES = ("int", "float", "date")


def read_rank_by(reader: Reader, dec: YMap, facts: Mapping[str, FactSpec],
                 computed: Mapping[str, ComputedValue]) -> tuple[RankKey, ...]:
    """The rank_by keys as written plus `id` last; problems go to the reader at their line:col."""
    items = reader.seq(dec, "rank_by", "decision")
    if items is None:
        return ()
    if not items:
        reader.error(dec.pos("rank_by"), "decision: rank_by lists at least one key, e.g. [score, name]")
    if "tie_breaks" in dec:
        reader.error(dec.kpos("tie_breaks"), "decision: give either 'rank_by' or 'tie_breaks', not both "
                                             "(rank_by lists every key, score included)")
    names = [*BUILTIN_RANK_KEYS, *facts, *computed]
    out: list[RankKey] = []
    for i, item in enumerate(items):
        pos = items.pos(i) if isinstance(items, YList) else dec.kpos("rank_by")
        key, order, where = _item(reader, item, pos)
        if key is None:
            continue
        problem = _key_problem(key, facts, computed)
        if problem:
            unknown = key not in names
            reader.error(where, f"decision: rank_by key {key!r} {problem}" + (suggest(key, names) if unknown else ""))
            continue
        if order is None and key not in BUILTIN_RANK_KEYS:
            reader.error(where, f"decision: rank_by key '{key}' needs an order: write "
                                f"{{key: {key}, order: desc}} (highest first) or order: asc (lowest first)")
            continue
        if order == "desc" and key in ("name", "id"):
            reader.error(where, f"decision: rank_by key '{key}' sorts alphabetically: write order: asc or leave it out")
            continue
        if any(k.key == key for k in out):
            reader.error(where, f"decision: rank_by lists '{key}' twice")
            continue
        descending = ORDERS[order] if order else key in NATURAL_DESC
        out.append(RankKey(key, descending))
    if out and all(k.key != "id" for k in out):
        out.append(RankKey("id", False))
    return tuple(out)


def _item(reader: Reader, item: Any, pos) -> tuple[str | None, str | None, Any]:
    """(key, order or None, position of the key) of one rank_by item, or (None, ...) after an error."""
    if isinstance(item, str):
        return item, None, pos
    if not isinstance(item, YMap):
        reader.error(pos, "decision: each rank_by item is a key's name or {key: NAME, order: desc|asc}")
        return None, None, pos
    reader.known_keys(item, ("key", "order"), "decision rank_by item")
    key, order = item.get("key"), item.get("order")
    if not isinstance(key, str):
        reader.error(item.pos("key") if "key" in item else pos, "decision: a rank_by item needs 'key: NAME'")
        return None, None, pos
    if order is not None and order not in ORDERS:
        reader.error(item.pos("order"), f"decision: rank_by order must be desc (highest first) or asc "
                                        f"(lowest first), got {order!r}" + suggest(str(order), ORDERS))
        return None, None, pos
    return key, order, item.pos("key")


def _key_problem(key: str, facts: Mapping[str, FactSpec], computed: Mapping[str, ComputedValue]) -> str:
    """Why `key` cannot rank applicants, or "" if it can."""
    if key in BUILTIN_RANK_KEYS:
        return ""
    kind = facts[key].type if key in facts else computed[key].expr.type if key in computed else None
    if kind is None:
        return f"is not {', '.join(BUILTIN_RANK_KEYS)}, a fact or a computed value"
    if kind not in RANKABLE_TYPES:
        return f"has type {kind}: only numbers and dates rank applicants"
    return ""


def rank_facts(policy: DecisionPolicy, computed: Mapping[str, ComputedValue]) -> set[str]:
    """The facts the ranking reads: its fact keys, and those its computed keys read."""
    return {f for key in policy.value_keys
            for f in (facts_of(computed[key].expr) if key in computed else (key,))}
