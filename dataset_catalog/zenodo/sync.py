"""Harvest one window of Zenodo records into the catalog: versions collapsed into one row per work.

Each batch of works is merged with what the catalog already holds of them (their `source_meta`)
and upserted in one transaction, batch after batch in order (writer.py: in a child process), so a
work whose versions arrive in different batches, runs or partitions ends up with the latest
version's values and every version counted. The walk hands batches over and goes on at once (up
to 8 batches ahead of the writer), so a slow database does not hold back the next page request
and its resumption token; a prefetch thread was tried and cost more than it saved (GIL contention
between two busy threads: 5.8 s instead of 4.9 s for 20k records, benchmarks/bench_zenodo_sync.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.catalog.source_meta_lists import rows_listing_numbers
from dataset_catalog.common.cleaning import parse_datetime
from dataset_catalog.common.windows import SyncWindow
from dataset_catalog.zenodo.client import OaiPage
from dataset_catalog.zenodo.mapping import (
    RECID,
    SOURCE,
    DeletedRecord,
    MalformedRecord,
    map_record,
    record_header,
    withdraw_versions,
    work_row,
)
from dataset_catalog.zenodo.writer import open_works_writer

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 10
PROGRESS_LOG_SECONDS = 5.0  # each log line is an event in Dagster's event log: not one per page


@dataclass
class DayCounts:
    """What one UTC day (of the records' datestamps) brought."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    malformed: int = 0
    deleted: int = 0

    @property
    def fetched(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass
class SyncReport:
    pages_read: int = 0
    records_scanned: int = 0
    versions_taken: int = 0  # well-formed records in the window (several may be one work)
    skipped_malformed: int = 0
    skipped_deleted: int = 0
    deleted_recids: set[int] = field(default_factory=set)  # deleted versions' record ids, applied at the end
    versions_withdrawn: int = 0  # deleted versions removed from their works
    works_withdrawn: int = 0  # works left with no version: written inactive
    skipped_outside_window: int = 0
    complete_list_size: int | None = None
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    stop_reason: str = "end of list"
    preview: list[dict[str, Any]] = field(default_factory=list)
    malformed_by_day: dict[str, int] = field(default_factory=dict)
    deleted_by_day: dict[str, int] = field(default_factory=dict)
    malformed_samples: list[str] = field(default_factory=list)

    @property
    def works_fetched(self) -> int:
        return self.counts.inserted + self.counts.updated + self.counts.unchanged

    def by_day(self) -> dict[str, DayCounts]:
        days: dict[str, DayCounts] = {}
        for day, counts in self.counts.groups().items():
            days[day] = DayCounts(counts.inserted, counts.updated, counts.unchanged)
        for day, n in self.malformed_by_day.items():
            days.setdefault(day, DayCounts()).malformed = n
        for day, n in self.deleted_by_day.items():
            days.setdefault(day, DayCounts()).deleted = n
        return dict(sorted(days.items()))


class _Works:
    """Versions waiting to be written, by concept record id, handed to the writer in batches."""

    def __init__(self, writer, batch_size: int):
        self.writer, self.batch_size = writer, batch_size
        self.pending: dict[int, list[dict[str, Any]]] = {}
        self.submitted = 0

    def add(self, version: dict[str, Any]) -> None:
        self.pending.setdefault(version["concept_recid"], []).append(version)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.submit(self.pending)
            self.submitted += len(self.pending)
            self.pending = {}


def _count_by_day(into: dict[str, int], record: Any, window: SyncWindow) -> None:
    moment = parse_datetime(record_header(record)[1])
    if moment is not None and window.contains(moment):
        day = moment.date().isoformat()
        into[day] = into.get(day, 0) + 1


def sync_zenodo(
    pages: Iterable[OaiPage],
    store: CatalogStore,
    window: SyncWindow,
    *,
    batch_size: int = 500,
    limit: int | None = None,
    log: logging.Logger | Any = logger,
) -> SyncReport:
    """Upsert the works of every well-formed record of `window` (at most `limit` versions), batch by
    batch. Each batch commits on its own: a failure later keeps what was written."""
    report = SyncReport()
    logged_at = float("-inf")

    def written(counts: UpsertCounts, preview: list[dict[str, Any]]) -> None:
        report.counts += counts
        report.preview.extend(preview[: max(PREVIEW_ROWS - len(report.preview), 0)])

    def log_progress() -> None:
        nonlocal logged_at
        logged_at = time.monotonic()
        total = f" of {report.complete_list_size}" if report.complete_list_size else ""
        log.info(
            f"Page {report.pages_read}: scanned {report.records_scanned}{total} records, {report.versions_taken} "
            f"versions taken, {works.submitted} works handed to the writer, {report.works_fetched} committed, "
            f"{report.skipped_malformed} malformed"
        )

    with open_works_writer(store, written) as writer:
        works = _Works(writer, batch_size)
        for page in pages:
            report.pages_read += 1
            if report.complete_list_size is None:
                report.complete_list_size = page.complete_list_size
            if _take_page(page, report, window, works, limit, log):
                break
            if time.monotonic() - logged_at >= PROGRESS_LOG_SECONDS:
                log_progress()
        works.flush()
    _withdraw_deleted_versions(store, report)
    log_progress()  # once everything is committed
    return report


def _take_page(page: OaiPage, report: SyncReport, window: SyncWindow, works: _Works, limit, log) -> bool:
    """Map one page's records into `works`; True when the limit is reached."""
    for record in page.records:
        report.records_scanned += 1
        try:
            version = map_record(record)
        except DeletedRecord:
            report.skipped_deleted += 1
            _count_by_day(report.deleted_by_day, record, window)
            recid = RECID.search((record_header(record)[0] or "").strip())
            if recid:
                report.deleted_recids.add(int(recid.group(1)))
            continue
        except MalformedRecord as exc:
            report.skipped_malformed += 1
            _count_by_day(report.malformed_by_day, record, window)
            identifier = record_header(record)[0] or "<no identifier>"
            if len(report.malformed_samples) < PREVIEW_ROWS:
                report.malformed_samples.append(f"{identifier[:80]}: {exc}")
            log.warning(f"Skipped malformed Zenodo record {identifier[:80]}: {exc}")
            continue
        if not window.contains(parse_datetime(version["datestamp"])):
            report.skipped_outside_window += 1  # a server that ignores from/until must not widen the partition
            continue
        report.versions_taken += 1
        works.add(version)
        if limit is not None and report.versions_taken >= limit:
            report.stop_reason = f"limit of {limit} records reached"
            return True
    return False


def _withdraw_deleted_versions(store: CatalogStore, report: SyncReport) -> None:
    """Remove the window's deleted versions from the works that list them, after every batch is
    committed; a work with no version left becomes inactive. One transaction; a rerun finds the
    versions already gone and writes nothing."""
    if not report.deleted_recids:
        return
    rows = []
    for stored in rows_listing_numbers(store, SOURCE, "version_recids", sorted(report.deleted_recids)):
        meta = stored["source_meta"]
        state = (
            withdraw_versions(meta, report.deleted_recids) if isinstance(meta, dict) and meta.get("latest") else None
        )
        if state is not None:
            report.versions_withdrawn += len(meta.get("version_recids") or []) - len(state["version_recids"])
            report.works_withdrawn += bool(state.get("withdrawn"))
            rows.append(work_row(state))
    if rows:
        report.counts += store.upsert_datasets(rows)
