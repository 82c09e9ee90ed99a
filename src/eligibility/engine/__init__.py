"""The engines that compute every node's three-valued outcome for an applicant's known facts.

`durable` (the engine of record) runs the program compiled to durable-rules (compiler.py,
durable.py); `python` evaluates the parsed conditions directly (python.py). Both take a group
of applicants' known fact values and return one `EngineResult` each (result.py), or an
`EngineError` for an applicant the engine failed on. This package alone knows how a ruleset is
encoded for durable-rules and how its firings are decoded.
"""
from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

from eligibility.core.errors import EngineError
from eligibility.engine.compiler import CompiledRuleset, compile_program
from eligibility.engine.python import PythonEngine
from eligibility.engine.result import EngineResult, Firing, Outcomes
from eligibility.language.model import Program

ENGINE_KINDS = ("durable", "python")


class Engine(Protocol):
    name: str

    def run_all(self, values: Sequence[Mapping[str, Any]], trace: bool = False) -> list[EngineResult | EngineError]:
        """One result per applicant's known fact values, in order."""

    def close(self) -> None:
        """Free the engine's resources."""


def open_engine(program: Program, kind: str, compiled: CompiledRuleset | None = None) -> Engine:
    """An engine of `kind` for the program (`compiled`: reuse a compilation already made)."""
    if kind == "python":
        return PythonEngine(program)
    if kind == "durable":
        from eligibility.engine.durable import DurableEngine      # loads the C extension
        return DurableEngine(compiled or compile_program(program))
    raise ValueError(f"engine must be one of {ENGINE_KINDS}")


__all__ = ["ENGINE_KINDS", "CompiledRuleset", "Engine", "EngineResult", "Firing", "Outcomes", "compile_program",
           "open_engine"]
