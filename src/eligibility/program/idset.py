"""The applicant ids a batch has seen, kept to find a later input with the same id.

A batch keeps every id to its end (a duplicate may come last). A Python set of str costs about
93 bytes per id (a 64-byte string object and its slots in the table): 93 MB at 1,000,000
applicants, a third of the run's peak. `IdSet` keeps each id once, as bytes, in one `bytearray`
(its UTF-8, then a byte that UTF-8 never uses) and finds it through an open-addressing table of 64-bit
slots in an `array` (32 bits of the id's hash, then 1 + where it starts; linear probing, never
more than half full): about 25 bytes per id. Equality is exact: the hash bits only spare
comparisons. The price is Python code per id (about 0.9 µs, against 0.2 for a set); the
figures are in docs/performance.md. Past 4 GB of ids (the slots' 32-bit positions), further
ids go to an ordinary set.
"""
from __future__ import annotations

from array import array
from typing import Callable, Iterable

_POSITION = 0xFFFFFFFF         # the low 32 bits of a slot: 1 + where the id starts; 0 is empty
_END = b"\xff"                 # ends each id: a byte that UTF-8 never uses


class IdSet:
    """A set of strings with one operation, `add_all`, that says which were there already."""

    def __init__(self, capacity_bytes: int = _POSITION, hashing: Callable[[str], int] = hash):
        self.hashing = hashing                 # a test may give one with many collisions
        self.slots = array("Q", bytes(8 * 1024))
        self.ids = bytearray()                 # each id: its UTF-8, then _END
        self.capacity_bytes = capacity_bytes   # of `ids`; beyond it, ids go to `overflow`
        self.overflow: set[str] = set()
        self.count = 0

    def __len__(self) -> int:
        return self.count + len(self.overflow)

    def add_all(self, texts: Iterable[str]) -> list[int]:
        """Add every text; the positions (in `texts`) of those already there, or earlier in `texts`."""
        slots, ids, hash_of = self.slots, self.ids, self.hashing
        mask = len(slots) - 1
        again: list[int] = []
        for n, text in enumerate(texts):
            key = text.encode("utf-8", "surrogatepass") + _END     # one-to-one for every str
            tag = hash_of(text) & 0xFFFFFFFF
            i = tag & mask
            while True:
                slot = slots[i]
                if not slot:
                    break
                if slot >> 32 == tag and ids.startswith(key, (slot & _POSITION) - 1):
                    again.append(n)
                    break
                i = (i + 1) & mask
            if slot:
                continue
            if len(ids) + len(key) >= self.capacity_bytes:
                if text in self.overflow:
                    again.append(n)
                self.overflow.add(text)
                continue
            slots[i] = tag << 32 | (len(ids) + 1)
            ids += key
            self.count += 1
            if 2 * self.count > len(slots):
                self._grow()
                slots = self.slots
                mask = len(slots) - 1
        return again

    def _grow(self) -> None:
        old = self.slots
        self.slots = slots = array("Q", bytes(16 * len(old)))
        mask = len(slots) - 1
        for slot in old:
            if slot:
                i = (slot >> 32) & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = slot
