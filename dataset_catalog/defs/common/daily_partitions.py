"""Daily partitions of a source synced by update date: their definition, a run's window, and each
partition's own counts.

The first partition is also open towards the past, so "all partitions" means every record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click
import dagster as dg
from pydantic import Field

from dataset_catalog.catalog.loader import DayCounts, LoadReport
from dataset_catalog.common.windows import SyncWindow
from dataset_catalog.errors import DatasetCatalogError

PARTITION_KEY_SHOWN_CHARS = 40  # a longer unknown key is cut in the message


class UnknownPartitionError(DatasetCatalogError, click.ClickException):
    """A partition key that names no partition. Also a ClickException: the `dagster` CLI (click) prints
    it as one line, "Error: <message>", instead of a traceback."""

    exit_code = 2  # bad usage, as in the dataset-catalog CLI


class DailyPartitions(dg.DailyPartitionsDefinition):
    """Daily partitions whose unknown-key error names the format and the range (give timezone="UTC").

    Dagster's own error says only that no partition has the key, and `dagster asset materialize`
    replaces a DagsterUnknownPartitionError by a traceback saying even less; validate_partition_key
    is what every launch path (CLI, materialize, UI, schedules) calls before a run starts.
    Which keys exist (has_partition_key) is Dagster's, unchanged.
    """

    def validate_partition_key(self, partition_key: str, context) -> None:
        try:
            super().validate_partition_key(partition_key, context)
        except dg.DagsterUnknownPartitionError:
            shown = repr(partition_key[:PARTITION_KEY_SHOWN_CHARS])  # repr: no control character reaches a terminal
            raise UnknownPartitionError(
                f"No partition {shown}: partitions are days written YYYY-MM-DD (UTC), from "
                f"{self.get_first_partition_key()} to {self.get_last_partition_key()}; give one of them "
                "(--partition DAY, or --partition-range START...END)."
            ) from None

    def get_partition_subset_in_time_window(self, time_window):
        # A run of START...END asks for the subset from START's window to END's when it is created, in
        # the launching process (the CLI too): a reversed range is refused there, before any run exists,
        # instead of failing the run's step with a traceback.
        if time_window.start > time_window.end:
            start_day = time_window.start.astimezone(UTC).date()
            end_day = (time_window.end - timedelta(days=1)).astimezone(UTC).date()
            raise UnknownPartitionError(
                f"Partition range {start_day}...{end_day} is reversed: its start is after its end. Give "
                f"START...END with START <= END, days written YYYY-MM-DD (UTC) from {self.get_first_partition_key()} "
                f"to {self.get_last_partition_key()}."
            )
        return super().get_partition_subset_in_time_window(time_window)


class DailySyncConfig(dg.Config):
    """The run config of a source synced by daily partitions."""

    limit: int | None = Field(default=None, ge=1, description="Stop after this many source records; unset = no cap.")
    batch_size: int = Field(
        default=500, ge=1, le=10_000, description="Rows (of a source merging versions: works) per upsert transaction."
    )


@dataclass(frozen=True)
class DailyRun:
    """The partitions of one run: their keys, the window they cover, the first partition's day."""

    keys: list[str]
    window: SyncWindow
    first_day: str


def daily_run(context: dg.AssetExecutionContext, first_partition_start: datetime) -> DailyRun:
    """The run's partitions; a range that names no partition fails the run before any work."""
    keys = list(context.partition_keys)
    if not keys:
        key_range = context.partition_key_range
        raise dg.Failure(
            description=f"Partition range {key_range.start}...{key_range.end} is empty: its start is after its "
            "end. Give START...END with START <= END."
        )
    time_window = context.partition_time_window
    start = time_window.start.astimezone(UTC)
    window = SyncWindow(None if start <= first_partition_start else start, time_window.end.astimezone(UTC))
    return DailyRun(keys, window, first_partition_start.date().isoformat())


def partition_counts(load: LoadReport, run: DailyRun) -> dict[str, DayCounts]:
    """Each partition's own counts (days before the first partition belong to it). A skipped
    record without a readable day belongs to no day: to the partition of a one-partition run,
    else only to the run's total."""
    counts = {key: DayCounts(skipped=dict.fromkeys(load.skipped, 0)) for key in run.keys}
    for day, day_counts in load.by_day().items():
        counts.setdefault(max(day, run.first_day), DayCounts()).add(day_counts)
    if len(run.keys) == 1:
        counts[run.keys[0]].skipped = dict(load.skipped)
    return counts
