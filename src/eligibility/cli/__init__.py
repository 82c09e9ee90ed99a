"""The `eligibility` command line. Each command lives in its own module and calls `eligibility.api`."""
from __future__ import annotations

import sys

from eligibility.core.errors import EligibilityError, EngineError
from eligibility.cli.app import app, state

# Importing the command modules registers their commands on `app`.
from eligibility.cli import check  # noqa: E402,F401
from eligibility.cli import batch  # noqa: E402,F401
from eligibility.cli import diff  # noqa: E402,F401
from eligibility.cli import validate  # noqa: E402,F401
from eligibility.cli import schema  # noqa: E402,F401
from eligibility.cli import ruletest  # noqa: E402,F401
from eligibility.cli import report  # noqa: E402,F401
from eligibility.cli import replay  # noqa: E402,F401
from eligibility.cli import serve  # noqa: E402,F401


def main() -> None:
    """Console-script entry point: user errors become one line per problem and exit 2, never a traceback."""
    if "--debug" in sys.argv[2:]:     # accepted after the command name too: `eligibility check x --debug`
        sys.argv.remove("--debug")
        sys.argv.insert(1, "--debug")
    try:
        app()          # standalone mode: usage errors print their own message and exit 2
    except EligibilityError as exc:
        if state.debug:
            raise
        for line in str(exc).splitlines() or [type(exc).__name__]:
            print(f"eligibility: error: {line}", file=sys.stderr)
        sys.exit(3 if isinstance(exc, EngineError) else exc.exit_code)
    except KeyboardInterrupt:
        print("eligibility: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; --debug shows the traceback
        if state.debug:
            raise
        print(f"eligibility: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
              file=sys.stderr)
        sys.exit(70)


__all__ = ["app", "main"]
