"""Deterministic sampling: hashes that stay the same across machines, library versions and runs, and
the annotator cap.

Polars' own `hash` may change between releases, which would silently move rows between splits or
change who is sampled; every sampling and splitting decision uses these instead.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl


def stable_hash64(values: pl.Series, *, salt: str) -> pl.Series:
    """A UInt64 per value: the first 8 bytes of blake2b(salt || 0x00 || value), big-endian."""
    # Copying a hasher already fed the prefix, and decoding all digests at once with numpy, halves
    # the per-row Python cost of hashing every value on its own and building Python ints.
    salted = hashlib.blake2b(salt.encode("utf-8") + b"\x00", digest_size=8)
    digests = []
    for value in values.cast(pl.String).fill_null("").to_list():
        hasher = salted.copy()
        hasher.update(value.encode("utf-8"))
        digests.append(hasher.digest())
    return pl.Series(values.name, np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64), dtype=pl.UInt64)


def annotator_cap(counts: list[int], max_share: float) -> int:
    """Largest C with C <= max_share * sum(min(c, C)) over annotators' row counts.

    Capping every annotator at C rows then leaves none above `max_share` of what remains, exactly.
    """
    sizes = np.asarray(counts, dtype=np.int64)
    low, high = 0, int(sizes.max(initial=0))
    while low < high:
        mid = (low + high + 1) // 2
        if mid <= max_share * int(np.minimum(sizes, mid).sum()):
            low = mid
        else:
            high = mid - 1
    return low
