"""A speed trick, in one place: how glibc's heap is asked to treat the engine's memory.

Each durable-rules run allocates a few hundred KB and frees them when the state is deleted. By
default glibc hands such memory back to the kernel and faults it in again for every applicant,
or, once one heap setting is touched, serves it from a fresh mapping each time. `keep_heap_top`
asks glibc, once per process, to keep a pad at the top of the heap and to serve blocks up to the
same size from the heap. It is called by batch workers only (one-profile commands do not need
it) and does nothing elsewhere than glibc. docs/performance.md gives its measured effect.
"""
from __future__ import annotations

import functools

_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3      # glibc malloc.h
HEAP_PAD = 4 << 20                          # bytes kept at the top of the heap, and the mmap threshold


@functools.lru_cache(maxsize=None)
def keep_heap_top() -> bool:
    """Set M_TOP_PAD and M_MMAP_THRESHOLD to HEAP_PAD (both: one alone is slower than neither);
    True when glibc accepted both."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_TOP_PAD, HEAP_PAD)) and bool(libc.mallopt(_M_MMAP_THRESHOLD, HEAP_PAD))
    except (OSError, AttributeError, TypeError):
        return False
