"""A rich console for stdout or for an output file written atomically."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator, Optional

from rich.console import Console

from eligibility.render.output import atomic_writer


@contextlib.contextmanager
def console_for(output: Optional[str]) -> Iterator[Console]:
    no_color = "NO_COLOR" in os.environ
    if output in (None, "-"):
        # piped: lay out for a wide page rather than squeezing into 80 columns (COLUMNS still wins)
        wide = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
        yield Console(no_color=no_color, highlight=False, width=wide)
        return
    with atomic_writer(output) as fh:
        yield Console(file=fh, no_color=True, highlight=False, width=120, force_terminal=False)
