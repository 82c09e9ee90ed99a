"""The start of a timed section on inputs built in advance."""
from __future__ import annotations

import gc
import time


def timing_starts() -> float:
    """The clock, once the inputs built so far are out of the garbage collector's reach.

    A row timed on inputs built in advance (100,000 parsed profiles, say) would otherwise also
    time the collector walking those inputs each time it runs, which a batch never pays: it reads
    its inputs as it goes and keeps none of them. What the timed code itself makes is collected
    as usual."""
    gc.collect()
    gc.freeze()
    return time.perf_counter()
