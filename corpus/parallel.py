"""Using every core from one stage process: numpy and polars release the GIL inside their kernels,
so threads running them on disjoint data run in parallel."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

# Below this many items per part, thread start-up costs more than it saves.
_MIN_PART = 10_000


def in_parallel(work: Callable[[_Item], _Result], items: Iterable[_Item]) -> list[_Result]:
    """`work` on each item, on all cores, results in order."""
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(work, items))


def over_ranges(work: Callable[[int, int], None], n: int) -> None:
    """`work(first, stop)` over contiguous parts of range(n), one part per core.

    For work that fills disjoint slices of preallocated arrays: the result is the same as one call
    over all of n (MinHash of 546k texts: 2.37 -> 1.81 s on 2 cores; memory bandwidth is the limit).
    """
    parts = max(1, min(os.cpu_count() or 1, n // _MIN_PART))
    bounds = [n * k // parts for k in range(parts + 1)]
    if parts == 1:
        work(0, n)
        return
    in_parallel(lambda part: work(*part), zip(bounds, bounds[1:]))
