"""program.idset: the batch's record of the ids seen so far answers as a Python set would."""
import random

import pytest

from eligibility.program.idset import IdSet

# ids that a byte-level store could confuse: prefixes, the empty string, non-ASCII, a lone
# surrogate (a JSON "\ud800"), NUL, and texts whose UTF-8 is another's with a length in front
TRICKY = ["", "a", "ab", "a\x00", "\x00a", "\x01a", "é", "e\u0301", "팀", "\ud800", "\udfff",
          "\x02\x00\x00\x00ab", "ab" * 300]


def _random_id(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.1:
        return rng.choice(TRICKY)
    if kind < 0.2:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000),
                                       rng.randrange(0xD800, 0xE000)])) for _ in range(rng.randrange(0, 6)))
    return f"app-{rng.randrange(20_000):05d}"


def _few_hashes(text: str) -> int:
    """Four values for every id: the table's hash bits then tell nothing apart, and every lookup
    must compare the bytes (and probe past many slots)."""
    return len(text) % 4


@pytest.mark.parametrize("capacity_bytes, hashing, batches", [(None, hash, 400), (500, hash, 400), (0, hash, 400),
                                                               (None, _few_hashes, 60)])
def test_add_all_names_exactly_the_ids_seen_before(capacity_bytes, hashing, batches):
    """On random batches (with repeats within a batch and across batches, past several growths
    of the table, past a small byte capacity into the overflow set, and with hashes that
    collide all the time) `add_all` gives the positions a plain set gives."""
    rng = random.Random(capacity_bytes)
    seen = IdSet(hashing=hashing) if capacity_bytes is None else IdSet(capacity_bytes=capacity_bytes, hashing=hashing)
    reference: set[str] = set()
    repeats = 0
    for _ in range(batches):
        batch = [_random_id(rng) for _ in range(rng.randrange(0, 60))]
        expected = []
        for n, text in enumerate(batch):
            if text in reference:
                expected.append(n)
            reference.add(text)
        assert seen.add_all(batch) == expected, batch
        repeats += len(expected)
    assert len(seen) == len(reference) > batches * 20 and repeats > batches * 2


@pytest.mark.parametrize("hashing", [hash, _few_hashes, lambda text: 7])
def test_every_tricky_id_is_distinct_from_the_others(hashing):
    seen = IdSet(hashing=hashing)
    assert seen.add_all(TRICKY) == []
    assert seen.add_all(reversed(TRICKY)) == list(range(len(TRICKY)))
    assert len(seen) == len(TRICKY)


def test_an_id_is_not_taken_for_a_longer_one_that_starts_with_it():
    """Longest first, so that the shorter ids are looked up where the longer ones are stored."""
    chain = ["x" * k for k in range(3000, 0, -1)]
    seen = IdSet(hashing=lambda text: 7)
    assert seen.add_all(chain) == [] and seen.add_all(chain[::7]) == list(range(len(chain[::7])))
