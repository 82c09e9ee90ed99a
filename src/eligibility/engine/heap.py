"""A speed trick, in one place: how glibc's heap is asked to treat the engine's memory.

Each durable-rules run allocates a few hundred KB and frees them when the state is deleted. By
default glibc hands such memory back to the kernel and faults it in again for every applicant,
or, once one heap setting is touched, serves it from a fresh mapping each time. `keep_heap_top`
asks glibc, once per process, to keep a pad at the top of the heap and to serve blocks up to the
same size from the heap. It is called by batch workers only (one-profile commands do not need
it), only for rulesets of at most MAX_TUNED_RULES engine rules, and does nothing elsewhere than
glibc. docs/performance.md gives its measured effect.
"""
from __future__ import annotations

import functools

_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3      # glibc malloc.h
HEAP_PAD = 4 << 20                          # bytes kept at the top of the heap, and the mmap threshold
# Measured (bench.py --sweep): the fixed settings help up to 356 rules and cost about 1,300 page
# faults per applicant from 466 rules on (a run's memory outgrows the pad), where glibc's own
# adaptive thresholds are 3-6x faster.
MAX_TUNED_RULES = 400


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


def tune_heap(rule_count: int) -> bool:
    """`keep_heap_top` for a ruleset of `rule_count` engine rules when that size is known to gain
    from it; True when the heap was tuned."""
    return rule_count <= MAX_TUNED_RULES and keep_heap_top()
