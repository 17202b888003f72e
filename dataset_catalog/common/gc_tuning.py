"""Fewer garbage-collector passes during bulk loops.

Mapping and binding a large listing allocates millions of short-lived dicts, lists and tuples
and no reference cycles. With CPython's default threshold (a pass every 700 net allocations)
the older generations, which hold the whole Dagster process, are rescanned so often that
collection took ~45% of the Hub mapping loop (measured: 18.4 vs 9.8 µs per item).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_GEN0_THRESHOLD = 100_000


@contextmanager
def fewer_gc_passes(gen0_threshold: int = BULK_GEN0_THRESHOLD) -> Iterator[None]:
    """Raise the young-generation threshold for the block; the previous thresholds come back after."""
    previous = gc.get_threshold()
    gc.set_threshold(max(gen0_threshold, previous[0]), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
