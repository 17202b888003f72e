"""Walk the Hub listing newest-first and upsert the datasets of one time window."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.catalog.writer_process import open_writer
from dataset_catalog.common.gc_tuning import fewer_gc_passes
from dataset_catalog.common.prefetch import prefetched
from dataset_catalog.common.windows import SyncWindow
from dataset_catalog.huggingface.mapping import MalformedItem, item_id, last_modified_of, map_item

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 10
# Each log line is an event in Dagster's event log (~7 ms on a SQLite instance): one a page
# cost a fast walk a second in 100, so progress is logged at most this often.
PROGRESS_LOG_SECONDS = 5.0


@dataclass
class DayCounts:
    """What one UTC day (of `lastModified`) of the window brought."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    malformed: int = 0  # skipped items whose lastModified could still be read
    cleaned: int = 0

    @property
    def fetched(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass
class SyncReport:
    pages_read: int = 0
    items_scanned: int = 0
    skipped_newer: int = 0
    skipped_malformed: int = 0
    cleaned: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    stop_reason: str = "end of listing"
    preview: list[dict[str, Any]] = field(default_factory=list)
    malformed_by_day: dict[str, int] = field(default_factory=dict)
    cleaned_by_day: dict[str, int] = field(default_factory=dict)

    @property
    def fetched(self) -> int:
        return self.counts.inserted + self.counts.updated + self.counts.unchanged

    def by_day(self) -> dict[str, DayCounts]:
        """The counts of each UTC day ("YYYY-MM-DD") the walk saw datasets of."""
        days: dict[str, DayCounts] = {}
        for day, counts in self.counts.groups().items():
            days[day] = DayCounts(counts.inserted, counts.updated, counts.unchanged)
        for day, n in self.malformed_by_day.items():
            days.setdefault(day, DayCounts()).malformed = n
        for day, n in self.cleaned_by_day.items():
            days.setdefault(day, DayCounts()).cleaned = n
        return dict(sorted(days.items()))


class _NextPageNeeded:
    """Whether a walk that just received `page` will certainly ask for the next one.

    True while the page's oldest readable item is still inside or above the window and the
    limit can't have been reached: exactly when the sequential walk would go on.
    """

    def __init__(self, window: SyncWindow, limit: int | None):
        self.window, self.limit, self.in_window = window, limit, 0

    def __call__(self, page: list) -> bool:
        if self.limit is not None:
            dates = [d for d in map(_date_of, page) if d is not None]
            self.in_window += sum(1 for d in dates if self.window.contains(d))
            if self.in_window >= self.limit:
                return False
        if self.window.start is None:
            return True
        # Sorted newest first: the oldest readable item decides (malformed ones never stop the walk).
        oldest = next((d for d in map(_date_of, reversed(page)) if d is not None), None)
        return oldest is None or oldest >= self.window.start


def _date_of(item: Any) -> datetime | None:
    """The item's lastModified if map_item would accept the item (malformed ones count for nothing)."""
    return last_modified_of(item) if item_id(item) is not None else None


class _Batcher:
    """Collects rows, labelled with their UTC day, and hands full batches to the writer."""

    def __init__(self, writer, batch_size: int):
        self.writer, self.batch_size = writer, batch_size
        self.rows: list[dict[str, Any]] = []
        self.days: list[str] = []
        self.queued = 0  # rows handed over, committed or about to be

    @property
    def total(self) -> int:
        return self.queued + len(self.rows)

    def add(self, row: dict[str, Any], day: str) -> None:
        self.rows.append(row)
        self.days.append(day)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.submit(self.rows, self.days)
            self.queued += len(self.rows)
            self.rows, self.days = [], []


def sync_hf_datasets(
    pages: Iterable[list],
    store: CatalogStore,
    window: SyncWindow,
    *,
    limit: int | None = None,
    batch_size: int = 500,
    log: logging.Logger | Any = logger,
) -> SyncReport:
    """Upsert every well-formed item of `window` (at most `limit`), batch by batch.

    The listing is sorted by lastModified descending, so items newer than the window are
    skipped and the first item older than its start ends the walk (no further pages are
    requested). Each batch commits on its own: a failure later keeps what was written.
    """
    report = SyncReport()

    def add_counts(counts: UpsertCounts) -> None:
        report.counts += counts

    logged_at, logged_state = float("-inf"), None

    def log_progress(total_in_window: int) -> None:
        nonlocal logged_at, logged_state
        committed = report.counts.written + report.counts.unchanged
        logged_at, logged_state = time.monotonic(), (report.pages_read, committed)
        log.info(
            f"Page {report.pages_read}: scanned {report.items_scanned} items, {total_in_window} in window "
            f"so far, {committed} committed, {report.skipped_malformed} malformed"
        )

    with fewer_gc_passes(), open_writer(store, add_counts) as writer:  # commits in a child process
        batcher = _Batcher(writer, batch_size)
        for page in prefetched(pages, _NextPageNeeded(window, limit), name="listing-prefetch"):
            report.pages_read += 1
            done = _take_page(page, report, window, limit, batcher, log)
            batcher.flush()
            if time.monotonic() - logged_at >= PROGRESS_LOG_SECONDS:
                log_progress(batcher.total)
            if done:
                break
    if logged_state != (report.pages_read, report.counts.written + report.counts.unchanged):
        log_progress(batcher.total)  # once everything is committed, unless that is what was logged last
    return report


def _take_page(page: list, report: SyncReport, window: SyncWindow, limit, batcher: _Batcher, log) -> bool:
    """Map one page's items into the batcher; True when the walk should stop."""
    for item in page:
        report.items_scanned += 1
        try:
            mapped = map_item(item)
        except MalformedItem as exc:
            report.skipped_malformed += 1
            log.warning(f"Skipped malformed Hub item {item_id(item) or '<no id>'}: {exc}")
            moment = last_modified_of(item) if isinstance(item, dict) else None
            if moment is not None and window.contains(moment):
                day = moment.date().isoformat()
                report.malformed_by_day[day] = report.malformed_by_day.get(day, 0) + 1
            continue
        if window.end is not None and mapped.last_modified >= window.end:
            report.skipped_newer += 1
            continue
        if window.start is not None and mapped.last_modified < window.start:
            report.stop_reason = f"reached {mapped.last_modified.isoformat()}, before the window"
            return True
        day = mapped.last_modified.date().isoformat()
        if mapped.cleaned:
            report.cleaned += 1
            report.cleaned_by_day[day] = report.cleaned_by_day.get(day, 0) + 1
            log.info(f"Cleaned bad field values of Hub item {mapped.external_id}")
        batcher.add(mapped.row, day)
        if len(report.preview) < PREVIEW_ROWS:
            report.preview.append(mapped.row)
        if limit is not None and batcher.total >= limit:
            report.stop_reason = f"limit of {limit} reached"
            return True
    return False
