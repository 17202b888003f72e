"""The one loader of source rows: a source yields mapped rows, the loader writes them.

A source's sync is a generator of items:

- `(row, day)`: a catalog row dict (with a `Merge`: one item of a key's batch, e.g. a version
  of a work) and the UTC day "YYYY-MM-DD" it counts for (its daily partition), or None;
- `Skipped(reason, day)`: a source record that gives no row (malformed, deleted), counted by
  reason and, when its day is known, by day;
- `CHECKPOINT`: a point (the end of a page, say) where the loader may commit and log progress.

The loader owns the rest: batches of `batch_size` rows (or keys), each one transaction, written
in order by one writer (catalog/writer_process.py: a child process where it pays, else the
calling thread), committed also at checkpoints (`commit_at_checkpoints`) or once a batch is
`commit_seconds` old; progress logged at the first checkpoint, then at most every
PROGRESS_LOG_SECONDS, and once more when everything is committed. When the source raises, what
it yielded is committed first (each row is whole), so a re-run has less to do. The result is
one LoadReport: totals, counts by day, skips, a preview of the rows written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.upserts import UpsertCounts
from dataset_catalog.catalog.writer_process import MergeRows, open_writer
from dataset_catalog.common.gc_tuning import fewer_gc_passes
from dataset_catalog.errors import CatalogWriteError

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = ("external_id", "title", "license", "download_count", "source_updated_at")
# Each log line is an event in Dagster's event log (~7 ms on a SQLite instance): one a page
# cost a fast walk a second in 100, so progress is logged at most this often.
PROGRESS_LOG_SECONDS = 5.0


class Skipped(NamedTuple):
    """A source record that gives no row: `skipped_<reason>` in the metadata."""

    reason: str
    day: str | None = None


class _Checkpoint:
    def __repr__(self) -> str:
        return "CHECKPOINT"


CHECKPOINT = _Checkpoint()


@dataclass(frozen=True)
class Merge:
    """Rows built by the writer from the catalog's stored state: the items sharing a `key`
    collapse into one row (`rows(store, {key: [items]})`, module-level functions: the writer
    process imports them by name). A batch holds `batch_size` keys; a key's day is its items' latest."""

    key: Callable[[Any], Hashable]
    rows: MergeRows


@dataclass
class DayCounts:
    """What one UTC day (or one partition, or the whole run) brought."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def add(self, other: DayCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n


@dataclass
class LoadReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    handed_over: int = 0  # rows (with a Merge: keys) handed to the writer, committed or about to be
    skipped: dict[str, int] = field(default_factory=dict)  # by reason, including records of no known day
    skipped_by_day: dict[str, dict[str, int]] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)  # the first rows, PREVIEW_COLUMNS only

    @property
    def loaded(self) -> int:
        """Rows written or found unchanged."""
        return self.counts.inserted + self.counts.updated + self.counts.unchanged

    def totals(self) -> DayCounts:
        return DayCounts(self.counts.inserted, self.counts.updated, self.counts.unchanged, dict(self.skipped))

    def by_day(self) -> dict[str, DayCounts]:
        """The counts of each UTC day ("YYYY-MM-DD") that rows or skips were labelled with."""
        days: dict[str, DayCounts] = {}
        for day, inserted, updated, unchanged in self.counts.by_group:
            if day:
                days[day] = DayCounts(inserted, updated, unchanged)
        for day, skipped in self.skipped_by_day.items():
            days.setdefault(day, DayCounts()).add(DayCounts(skipped=skipped))
        return dict(sorted(days.items()))

    def _skip(self, item: Skipped) -> None:
        self.skipped[item.reason] = self.skipped.get(item.reason, 0) + 1
        if item.day is not None:
            on_day = self.skipped_by_day.setdefault(item.day, {})
            on_day[item.reason] = on_day.get(item.reason, 0) + 1

    def _written(self, counts: UpsertCounts, rows: list[dict[str, Any]]) -> None:
        """The writer's report of one committed batch (from its reader thread)."""
        self.counts += counts
        for row in rows[: PREVIEW_ROWS - len(self.preview)]:
            self.preview.append({c: row.get(c) for c in PREVIEW_COLUMNS})


class _Batch:
    """The rows (or, with a Merge, the keys' items) waiting for the writer, with their day labels."""

    def __init__(self, writer, report: LoadReport, size: int, merge: Merge | None, commit_seconds: float | None):
        self.writer, self.report, self.size, self.commit_seconds = writer, report, size, commit_seconds
        self.key = merge.key if merge is not None else None
        self.started = 0.0
        self._reset()

    def _reset(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.pending: dict[Hashable, list[Any]] = {}
        self.days: list[str] = []
        self.key_days: dict[Hashable, str] = {}
        self.labelled = False

    def add(self, values: Any, day: str | None) -> None:
        if self.commit_seconds is not None and not (self.rows or self.pending):
            self.started = time.monotonic()
        self.labelled = self.labelled or day is not None
        if self.key is None:
            self.rows.append(values)
            self.days.append(day or "")
            if len(self.report.preview) < PREVIEW_ROWS:
                self.report.preview.append({c: values.get(c) for c in PREVIEW_COLUMNS})
            if len(self.rows) >= self.size:
                self.flush()
            return
        key = self.key(values)
        self.pending.setdefault(key, []).append(values)
        if day is not None and day > self.key_days.get(key, ""):
            self.key_days[key] = day
        if len(self.pending) >= self.size:
            self.flush()

    def flush_if_old(self) -> None:
        if (self.rows or self.pending) and time.monotonic() - self.started >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        if self.key is None and self.rows:
            self.writer.submit(self.rows, self.days if self.labelled else None)
            self.report.handed_over += len(self.rows)
        elif self.pending:
            days = [self.key_days.get(key, "") for key in self.pending]
            self.writer.submit(self.pending, days if self.labelled else None)
            self.report.handed_over += len(self.pending)
        self._reset()


def load(
    store: CatalogStore,
    items: Iterable[Any],
    *,
    batch_size: int,
    merge: Merge | None = None,
    insert_only: Collection[str] = (),
    in_process: bool = False,
    commit_at_checkpoints: bool = False,
    commit_seconds: float | None = None,
    skip_reasons: Iterable[str] = (),
    progress: Callable[[LoadReport], str] | None = None,
    log: logging.Logger | Any = logger,
) -> LoadReport:
    """Write what the source `items` yield (see the module docstring); `skip_reasons`: the
    reasons the report counts even when none occurred; `progress`: the progress line to log."""
    report = LoadReport(skipped=dict.fromkeys(skip_reasons, 0))
    logged_at, logged = float("-inf"), None
    preview_rows = PREVIEW_ROWS if merge is not None else 0  # plain rows are previewed as they come
    merge_rows = merge.rows if merge is not None else None
    with (
        fewer_gc_passes(),
        open_writer(
            store,
            report._written,
            merge=merge_rows,
            insert_only=insert_only,
            preview_rows=preview_rows,
            in_process=in_process,
        ) as writer,
    ):
        batch = _Batch(writer, report, batch_size, merge, commit_seconds)
        try:
            for item in items:
                if item.__class__ is tuple:  # a row: by far the most frequent item
                    batch.add(*item)
                elif item.__class__ is Skipped:
                    report._skip(item)
                elif item is CHECKPOINT:
                    if commit_at_checkpoints:
                        batch.flush()
                    elif commit_seconds is not None:
                        batch.flush_if_old()
                    if progress is not None and (now := time.monotonic()) - logged_at >= PROGRESS_LOG_SECONDS:
                        logged_at, logged = now, progress(report)
                        log.info(logged)
                else:
                    raise TypeError(f"a source yields (row, day), Skipped or CHECKPOINT, not {type(item).__name__}")
        except Exception as exc:
            if not isinstance(exc, CatalogWriteError):
                batch.flush()  # what the source yielded is whole: keep it, a re-run needn't fetch it again
            raise
        finally:
            if hasattr(items, "close"):
                items.close()  # a source stopped early stops its own fetching (threads, connections)
        batch.flush()
    if progress is not None and (line := progress(report)) != logged:
        log.info(line)  # once everything is committed, unless that is what was logged last
    return report
