"""The values an applicant is ranked by (`decision.rank_by` keys that are facts or computed
values), worked out once from the facts in force on the evaluation date."""
from __future__ import annotations

from typing import Any, NamedTuple

from eligibility.evaluate.assess import Evaluation
from eligibility.language.numeric import NONE, compute, facts_of, with_today


class RankValue(NamedTuple):
    """One rank key's value: a number or date, or None without one. `missing` names the unknown
    facts it reads (empty when it is known, or known to have no value: none, division by zero)."""

    value: Any
    missing: tuple[str, ...] = ()


def rank_values(ev: Evaluation) -> tuple[RankValue, ...]:
    """The applicant's value of each fact or computed value of rank_by, in rank_by order."""
    program = ev.program
    keys = program.decision.value_keys
    if not keys:
        return ()
    values = ev.applicant.values(ev.as_of)
    if program.reads_today:
        values = with_today(values, ev.today)
    out = []
    for key in keys:
        computed = program.computed.get(key)
        value = compute(computed.expr, values) if computed is not None else values.get(key)
        if value is None:
            read = facts_of(computed.expr) if computed is not None else (key,)
            out.append(RankValue(None, tuple(f for f in read if f not in values)))
        else:
            out.append(RankValue(None if value is NONE else value))
    return tuple(out)
