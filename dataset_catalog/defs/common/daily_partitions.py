"""Daily partitions of a source synced by update date: a partition's window, and its own counts.

The first partition is also open towards the past, so "all partitions" means every record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import dagster as dg

from dataset_catalog.common.windows import SyncWindow

Counts = TypeVar("Counts")


def window_for(time_window: dg.TimeWindow, first_partition_start: datetime) -> SyncWindow:
    start = time_window.start.astimezone(UTC)
    return SyncWindow(None if start <= first_partition_start else start, time_window.end.astimezone(UTC))


def partition_counts(
    by_day: dict[str, Counts],
    skipped_malformed: int,
    partition_keys: list[str],
    partitions_start: str,
    empty: Callable[[], Counts],
) -> dict[str, Counts]:
    """Each partition's own counts (a dataclass of ints per day; days before the first partition
    belong to it). A malformed record without a readable date belongs to no day: to the partition
    of a one-partition run, else only to the run's total."""
    counts = {key: empty() for key in partition_keys}
    for day, day_counts in by_day.items():
        into = counts.setdefault(max(day, partitions_start), empty())
        for f in dataclasses.fields(into):
            setattr(into, f.name, getattr(into, f.name) + getattr(day_counts, f.name))
    if len(partition_keys) == 1:
        counts[partition_keys[0]].malformed = skipped_malformed
    return counts
