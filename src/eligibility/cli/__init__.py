"""The `eligibility` command line. Each command lives in its own module and calls `eligibility.api`."""
from __future__ import annotations

import os
import sys

from typer import Abort

try:        # recent typer carries its own copy of click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import NoArgsIsHelpError, UsageError

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
from eligibility.cli import history  # noqa: E402,F401


def main() -> None:
    """Console-script entry point: user errors become one line per problem and exit 2, never a traceback."""
    if "--debug" in sys.argv[2:]:     # accepted after the command name too: `eligibility check x --debug`
        sys.argv.remove("--debug")
        sys.argv.insert(1, "--debug")
    from eligibility.render.output import Guarded, OutputClosed, Terminated, on_signal
    on_signal()                                   # SIGTERM, SIGHUP: clean up as on Ctrl-C
    sys.stdout = Guarded(sys.stdout, "<stdout>")  # type: ignore[assignment]  # write errors: exit 2
    try:
        try:
            code = app(standalone_mode=False)
        finally:
            sys.stdout.flush()
        sys.exit(code if isinstance(code, int) else 0)
    except (OutputClosed, BrokenPipeError):   # the reader of our pipe is gone: stop quietly
        _closed_pipe()
    except Terminated as exc:
        print(f"eligibility: terminated by signal {exc.signum}; no output written", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(2)
    except UsageError as exc:
        # one line, with where to look, instead of click's boxed usage text
        command = exc.ctx.command_path if exc.ctx else "eligibility"
        print(f"eligibility: error: {exc.format_message()} (see '{command} --help')", file=sys.stderr)
        sys.exit(2)
    except Abort:
        print("eligibility: interrupted", file=sys.stderr)
        sys.exit(130)
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


def _closed_pipe() -> None:
    """The reader of our output went away (`eligibility batch | head`): stop quietly, as Unix tools
    do when SIGPIPE ends them (exit 141), and keep Python from reporting the flush of a dead pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except OSError:
        pass
    sys.exit(141)


__all__ = ["app", "main"]
