"""The only module that talks to durable-rules.

It drives the C extension (`durable_rules_engine`) directly rather than through
`durable.engine.Host`, whose Python layer costs most of the time and starts timer
threads that can crash the process. The pattern (see docs/engine.md):

* one ruleset handle per compiled program, created once per process;
* one live state at a time (sid "0": facts carry no sid), deleted after every applicant;
* every state starts at least one action before it is deleted (a state that never
  started one crashes `delete_state`), using a sentinel fact when nothing matched;
* derived facts are asserted while an action is open, so the engine chains them in
  the same run; the run stops with an error past a firing budget;
* only positive conditions (no `$not`, no `any`), discriminated by a `t` field so no
  rule can match the engine's own state fact.
"""
from __future__ import annotations

import itertools
import threading
from itertools import repeat
from typing import Any, Iterable, Mapping, Sequence

from eligibility.core.errors import EngineError
from eligibility.engine.compiler import SENTINEL, CompiledRuleset
from eligibility.engine.result import EngineResult, Firing, Outcomes

_names = itertools.count()
_lock = threading.Lock()        # the C engine has no locks of its own
_SENTINEL_FACT = '{"t":"%s"}' % SENTINEL
_OBSERVED = 2                   # rules.h: ERR_EVENT_OBSERVED


def _engine():
    import durable_rules_engine      # imported lazily: `eligibility --help` must stay fast
    return durable_rules_engine


class DurableResult(EngineResult):
    """The rules one applicant fired, in order (and their match messages, when a trace was asked
    for); the outcomes and firings are decoded from them by the compiled ruleset."""

    __slots__ = ("_compiled", "rules", "_messages")

    def __init__(self, compiled: CompiledRuleset, rules: list[str], messages: list[str] | None):
        self._compiled, self.rules, self._messages = compiled, rules, messages

    @property
    def key(self) -> str:
        return "\n".join(self.rules)             # rule names hold no newline

    def outcomes(self) -> Outcomes:
        return self._compiled.outcomes_of_rules(self.rules)

    def firings(self) -> tuple[Firing, ...]:
        if self._messages is None:
            return ()
        decode = self._compiled.decode_firing
        return tuple(decode(rule, msg) for rule, msg in zip(self.rules, self._messages))


class DurableEngine:
    """A compiled program loaded into the durable-rules C engine."""

    name = "durable"

    def __init__(self, compiled: CompiledRuleset):
        self.compiled = compiled
        self._e = _engine()
        # what the C extension raises: its own `error` ("... error code: N"), MemoryError for code
        # 101, TypeError for a bad argument; anything else is a bug of ours and is not disguised
        self._failures = (self._e.error, MemoryError, TypeError)
        self.stale = ""                 # why the last state could not be deleted, if it could not
        name = f"eligibility{next(_names)}"
        try:
            self._handle = self._e.create_ruleset(name, compiled.ruleset_json())
        except self._failures as exc:
            raise EngineError(f"the engine refused the compiled ruleset: {exc}") from None
        self._derive = compiled.derive
        self.run_docs(('{"t":"p0"}',))   # warm-up: the first state slot must have run an action once

    def close(self) -> None:
        if getattr(self, "_handle", None) is not None:
            try:
                self._e.delete_ruleset(self._handle)
            finally:
                self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def run_all(self, values: Sequence[Mapping[str, Any]], trace: bool = False) -> list[EngineResult | EngineError]:
        """Each applicant's known fact values run through the engine, in turn, with the EngineError
        of an applicant the engine fails on in its place (the next ones still run). `trace` keeps
        the match messages, for `firings()`."""
        return self.run_all_docs(list(map(self.compiled.encode, values)), trace)

    def run_docs(self, profile_docs: tuple[str, ...], keep_messages: bool = True) -> DurableResult:
        """Assert one applicant's profile facts (its shards, see compiler), run every activation,
        delete the state. All shards are asserted before the first action starts."""
        (result,) = self.run_all_docs([profile_docs], keep_messages)
        if isinstance(result, EngineError):
            raise result
        return result

    def run_all_docs(self, profiles: Iterable[tuple[str, ...]],
                     keep_messages: bool = True) -> list[DurableResult | EngineError]:
        """`run_docs` for each profile in turn, with the EngineError of a profile the engine fails
        on in place of its result (the next profiles still run)."""
        e, h, derive, budget = self._e, self._handle, self._derive, self.compiled.budget
        assert_fact, complete, start = e.assert_fact, e.complete_and_start_action, e.start_action_for_state
        failures, drop, observed = self._failures, self._drop_state, _OBSERVED
        compiled = self.compiled
        out: list[DurableResult | EngineError] = []
        with _lock:
            for profile_docs in profiles:
                if not profile_docs:        # no fact to assert: no state of its own to run or delete
                    out.append(EngineError("the profile has no engine facts"))
                    continue
                rules: list[str] = []
                fired = rules.append
                messages: list[str] | None = [] if keep_messages else None
                keep = messages.append if messages is not None else None
                try:
                    for doc in profile_docs:
                        code, state = assert_fact(h, doc)
                        if code == observed:
                            break
                except failures as exc:
                    self._recover()
                    out.append(EngineError(f"the engine rejected the profile: {exc}"))
                    continue
                try:
                    if code == observed:
                        raise EngineError("the engine already holds this profile (stale state"
                                          + (f": {self.stale})" if self.stale else ")"))
                    started = start(h, state)
                    if started is None:                    # nothing matched: run the sentinel so that
                        assert_fact(h, _SENTINEL_FACT)     # the state has run an action before delete
                        started = start(h, state)
                        if started is None:
                            raise EngineError("the engine did not start the sentinel action")
                    msg = started[1]
                    for _ in repeat(None, budget):
                        name = msg[2:msg.index('"', 2)]
                        fired(name)
                        if keep is not None:
                            keep(msg)
                        fact = derive.get(name)
                        if fact is not None:
                            assert_fact(h, fact)           # the state is locked: this only queues activations
                        msg = complete(h, state)
                        if msg is None:
                            break
                    else:
                        raise EngineError(f"firing budget of {budget} exceeded: the ruleset keeps firing")
                    out.append(DurableResult(compiled, rules, messages))
                except failures as exc:
                    out.append(EngineError(f"engine failure: {exc}"))
                except EngineError as exc:
                    out.append(exc)
                finally:
                    drop()
        return out

    def _recover(self) -> None:
        """After a failed assert (e.g. error 303) the state exists but never ran an action, and
        deleting it then crashes: run the sentinel on it first (its own state handle), then delete."""
        e, h = self._e, self._handle
        try:
            _, state = e.assert_fact(h, _SENTINEL_FACT)
            started = e.start_action_for_state(h, state)
            msg = started[1] if started else None
            for _ in range(self.compiled.budget + 1):
                if msg is None:
                    break
                msg = e.complete_and_start_action(h, state)
        except self._failures:
            pass                        # best effort: the state is deleted next either way
        finally:
            self._drop_state()

    def _drop_state(self) -> None:
        try:
            self._e.delete_state(self._handle, "0")
        except self._failures as exc:    # a state left behind would make the next profile "stale"
            self.stale = f"could not delete the engine state: {exc}"
