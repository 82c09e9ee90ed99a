"""Giving back to the system the memory a long batch has freed, every RELEASE_EVERY applicants.

A batch frees most of what it allocates (each unit's rows, records and messages) while it keeps
a little of it (the ranking entries, the ids): the kept objects end up spread through glibc's
heap, and glibc returns freed memory to the system only from the top of the heap, so the freed
pages between them stay in the process. At 300,000 applicants with two jobs the parent held
32 MB of such pages; `malloc_trim(0)`, which hands back every free page, brought it from 103
to 71 MB. The batch calls `MemoryRelease.after` as it goes; it does something only where the C
library is glibc (Linux). Figures: docs/performance.md.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Callable, Optional

RELEASE_EVERY = 16384          # applicants between two calls of malloc_trim


def _malloc_trim() -> Optional[Callable[[int], int]]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):         # not glibc (musl has no malloc_trim)
        return None


class MemoryRelease:
    """Calls `trim(0)` (by default glibc's malloc_trim, or nothing where there is none) each time
    the count of applicants done passes a multiple of `every`."""

    def __init__(self, every: int = RELEASE_EVERY, trim: Optional[Callable[[int], int]] = None):
        self.every, self.next = every, every
        self._trim = trim if trim is not None else _malloc_trim()

    def after(self, done: int) -> None:
        if done >= self.next:
            self.next = (done // self.every + 1) * self.every
            if self._trim is not None:
                self._trim(0)
