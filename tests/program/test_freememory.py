"""program.freememory: freed memory is handed back once each time the count of applicants passes a multiple."""
from eligibility.program.freememory import MemoryRelease


def test_the_trim_runs_once_each_time_a_multiple_is_passed():
    trimmed_at = []
    done = 0
    release = MemoryRelease(every=100, trim=lambda pad: trimmed_at.append((done, pad)) or 1)
    for done in (40, 99, 100, 150, 199, 420, 430, 499, 500, 501):
        release.after(done)
    # 420 passes 200, 300 and 400 at once: one call
    assert trimmed_at == [(100, 0), (420, 0), (500, 0)]
