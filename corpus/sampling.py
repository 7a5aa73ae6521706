"""Deterministic sampling: hashes that stay the same across machines, library versions and runs, and
the annotator cap.

Polars' own `hash` may change between releases, which would silently move rows between splits or
change who is sampled; every sampling and splitting decision uses these instead.
"""

from __future__ import annotations

import hashlib

import polars as pl


def stable_hash64(values: pl.Series, *, salt: str) -> pl.Series:
    """A UInt64 per value: the first 8 bytes of blake2b(salt || 0x00 || value), big-endian."""
    prefix = salt.encode("utf-8") + b"\x00"
    digests = [
        int.from_bytes(hashlib.blake2b(prefix + v.encode("utf-8"), digest_size=8).digest(), "big")
        for v in values.cast(pl.String).fill_null("").to_list()
    ]
    return pl.Series(values.name, digests, dtype=pl.UInt64)


def annotator_cap(counts: list[int], max_share: float) -> int:
    """Largest C with C <= max_share * sum(min(c, C)) over annotators' row counts.

    Capping every annotator at C rows then leaves none above `max_share` of what remains, exactly.
    """
    low, high = 0, max(counts, default=0)
    while low < high:
        mid = (low + high + 1) // 2
        if mid <= max_share * sum(min(c, mid) for c in counts):
            low = mid
        else:
            high = mid - 1
    return low
