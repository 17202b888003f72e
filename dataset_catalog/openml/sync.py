"""Re-list every OpenML dataset and fetch details only for the new and the changed ones.

The listing carries no timestamps, so there is no window to sync: each run walks the whole
listing (a handful of pages of every status) and compares each dataset with its catalog row.
A dataset's details (data/{id}, data/features/{id}) are fetched when it is active and the
catalog has no details for it, or has them for another version / md5 checksum (kept in the row's
source_meta). Everything else is rebuilt from the stored details with no request, and written
only when it differs (the row's sync_hash covers its inputs): a re-run with nothing changed
makes no detail call and writes nothing.

Rows are upserted in batches of `batch_size`, each in its own transaction, and at least every
`commit_seconds` while detail calls go on (at 2 requests/s a batch of 100 takes ~100 s): a
run killed half way keeps its committed batches, and the next run takes up the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.common.prefetch import prefetched
from dataset_catalog.errors import SourceUnavailableError
from dataset_catalog.openml.client import OpenMLClient, OpenMLResponseError
from dataset_catalog.openml.mapping import (
    SOURCE,
    ListingEntry,
    MalformedRecord,
    map_row,
    read_listing_item,
    reduce_details,
    stored_details,
)

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 10
PROGRESS_LOG_SECONDS = 5.0  # each log line is an event in Dagster's event log: not one per dataset
LOOKUP_CHUNK = 500  # catalog rows read per query (ids bound as one IN list)
MALFORMED_SAMPLES = 20
GONE_CHECK_CHUNK = 100  # ids per confirming listing call (a URL of ~700 characters)


@dataclass
class SyncReport:
    pages_read: int = 0
    listed: int = 0  # well-formed, distinct listing items
    skipped_malformed: int = 0
    malformed_samples: list[str] = field(default_factory=list)
    duplicates: int = 0  # items a shifted page listed twice
    details_fetched: int = 0  # datasets whose details were fetched
    detail_errors: int = 0  # datasets skipped because their detail calls failed (retried next run)
    detail_error_samples: list[str] = field(default_factory=list)
    deferred: int = 0  # datasets left for the next run by max_detail_fetches
    new_inactive_skipped: int = 0  # inactive datasets the catalog never had: not added
    deactivated: int = 0  # rows that were active and are now written inactive
    gone: int = 0  # active rows whose dataset left the listing (confirmed by id): written inactive
    reactivated: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    unchanged: int = 0  # rows whose inputs are what the catalog holds: not written at all
    stop_reason: str = "end of listing"
    preview: list[dict[str, Any]] = field(default_factory=list)


def fetch_details(client: OpenMLClient, entry: ListingEntry) -> dict[str, Any]:
    """The detail calls of one dataset, reduced to what its row needs; data/qualities only when
    the listing carried no qualities (it normally carries the ones we keep)."""
    description = client.description(entry.dataset_id)
    features = client.features(entry.dataset_id)
    qualities = None if entry.item["qualities"] else client.qualities(entry.dataset_id)
    return reduce_details(description, features, qualities)


class _Batch:
    def __init__(self, store: CatalogStore, report: SyncReport, batch_size: int, commit_seconds: float):
        self.store, self.report, self.batch_size, self.commit_seconds = store, report, batch_size, commit_seconds
        self.rows: list[dict[str, Any]] = []
        self.started = time.monotonic()

    def add(self, row: dict[str, Any]) -> None:
        if not self.rows:
            self.started = time.monotonic()
        self.rows.append(row)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush_if_old(self) -> None:
        if self.rows and time.monotonic() - self.started >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.report.counts += self.store.upsert_datasets(self.rows)
            self.rows = []


def _stored_rows(store: CatalogStore, entries: list[ListingEntry]) -> dict[str, dict[str, Any]]:
    ids = [e.external_id for e in entries]
    rows = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        for row in store.fetch_datasets(SOURCE, ids[start : start + LOOKUP_CHUNK]):
            rows[row["external_id"]] = row
    return rows


class _Step(NamedTuple):
    """One listed dataset, with what the producer found out about it; or a message to log."""

    entry: ListingEntry | None
    stored: dict[str, Any] | None = None
    details: dict[str, Any] | None = None
    details_for: list | None = None
    warning: str | None = None  # logged by the caller's thread (Dagster's log is written there)


def sync_openml_datasets(
    client: OpenMLClient,
    store: CatalogStore,
    *,
    batch_size: int = 100,
    commit_seconds: float = 30.0,
    max_detail_fetches: int | None = None,
    log: logging.Logger | Any = logger,
) -> SyncReport:
    """Walk the whole listing; upsert new and changed datasets (see the module docstring).

    A producer thread walks the listing and makes the detail calls one dataset ahead, so mapping
    and writing overlap the waits for OpenML (the pacer's, or the network's).
    """
    report = SyncReport()
    batch = _Batch(store, report, batch_size, commit_seconds)
    logged_at = time.monotonic()
    seen: set[int] = set()
    steps = _steps(client, store, report, max_detail_fetches, seen)
    try:
        for step in prefetched(steps, name="openml-details"):
            if step.warning:
                log.warning(step.warning)
            if step.entry is not None:
                _apply(step, batch, report)
            batch.flush_if_old()
            if time.monotonic() - logged_at >= PROGRESS_LOG_SECONDS:
                logged_at = time.monotonic()
                _log_progress(report, log)
    except SourceUnavailableError:
        batch.flush()  # rows already fetched are whole: keep them, the next run needn't fetch them again
        raise
    batch.flush()
    _deactivate_gone(client, store, seen, report)
    if max_detail_fetches is not None and report.deferred:
        report.stop_reason = f"end of listing; {report.deferred} datasets left for the next run (max_detail_fetches)"
    _log_progress(report, log)
    return report


def _steps(
    client: OpenMLClient, store: CatalogStore, report: SyncReport, max_detail_fetches: int | None, seen: set[int]
) -> Iterator[_Step]:
    """The producer: pages, the catalog's rows of each page, and the detail calls where needed."""
    for page in client.pages():
        report.pages_read += 1
        entries, warnings = _read_page(page, seen, report)
        yield from (_Step(None, warning=w) for w in warnings)
        stored = _stored_rows(store, entries)
        for entry in entries:
            step = _prepare(entry, stored.get(entry.external_id), client, report, max_detail_fetches)
            if step is not None:
                yield step


def _read_page(page: Iterable[Any], seen: set[int], report: SyncReport) -> tuple[list[ListingEntry], list[str]]:
    entries, warnings = [], []
    for item in page:
        try:
            entry = read_listing_item(item)
        except MalformedRecord as exc:
            report.skipped_malformed += 1
            did = item.get("did") if isinstance(item, dict) else None
            if str(did).isdigit():
                seen.add(int(did))  # listed, if unreadable: not gone
            sample = f"did={str(did)[:40]!r}: {exc}"
            if len(report.malformed_samples) < MALFORMED_SAMPLES:
                report.malformed_samples.append(sample)
            warnings.append(f"Skipped malformed OpenML listing item ({sample})")
            continue
        if entry.dataset_id in seen:  # the listing has no ORDER BY: a shifted page repeats items
            report.duplicates += 1
            continue
        seen.add(entry.dataset_id)
        entries.append(entry)
    report.listed += len(entries)
    return sorted(entries, key=lambda e: e.dataset_id), warnings


def _prepare(
    entry: ListingEntry,
    stored: dict[str, Any] | None,
    client: OpenMLClient,
    report: SyncReport,
    max_detail_fetches: int | None,
) -> _Step | None:
    """The step of one dataset: its details fetched if needed; None when it is skipped."""
    if stored is None and not entry.active:
        report.new_inactive_skipped += 1  # never public while we watched: nothing to show or keep
        return None
    details, details_for = stored_details(stored)
    if entry.active and (details is None or details_for != entry.fingerprint):
        if max_detail_fetches is not None and report.details_fetched >= max_detail_fetches:
            report.deferred += 1
            return None
        try:
            details, details_for = fetch_details(client, entry), entry.fingerprint
        except OpenMLResponseError as exc:  # this dataset's own trouble; the next run tries again
            report.detail_errors += 1
            if len(report.detail_error_samples) < MALFORMED_SAMPLES:
                report.detail_error_samples.append(f"{entry.dataset_id}: {exc}"[:300])
            return _Step(None, warning=f"Skipped OpenML dataset {entry.dataset_id}: {exc}")
        report.details_fetched += 1
    return _Step(entry, stored, details, details_for)


def _apply(step: _Step, batch: _Batch, report: SyncReport) -> None:
    """Map one dataset and queue its row, unless the catalog already holds exactly it."""
    entry, stored = step.entry, step.stored
    row = map_row(entry, step.details, step.details_for)
    if stored is not None and stored.get("sync_hash") == row["sync_hash"]:
        report.unchanged += 1
        return
    if stored is not None and stored.get("is_active") and not entry.active:
        report.deactivated += 1
    elif stored is not None and not stored.get("is_active") and entry.active:
        report.reactivated += 1
    batch.add(row)
    if len(report.preview) < PREVIEW_ROWS:
        report.preview.append(row)


def _deactivate_gone(client: OpenMLClient, store: CatalogStore, seen: set[int], report: SyncReport) -> None:
    """After a complete walk: active rows the listing no longer has. Each is asked for by id
    first (`data/list/data_id/...`, GONE_CHECK_CHUNK at a time), so a listing that silently
    came back short never deactivates a dataset that still exists."""
    listed = {str(i) for i in seen}
    missing = sorted(store.active_external_ids(SOURCE) - listed, key=lambda i: (len(i), i))
    for start in range(0, len(missing), GONE_CHECK_CHUNK):
        chunk = [i for i in missing[start : start + GONE_CHECK_CHUNK] if i.isdigit()]
        still_there = {
            str(item.get("did")) for item in client.list_by_ids([int(i) for i in chunk]) if isinstance(item, dict)
        }
        gone = [i for i in chunk if i not in still_there]
        if gone:
            report.counts += store.upsert_datasets(
                [{"source": SOURCE, "external_id": i, "is_active": False} for i in gone]
            )
            report.gone += len(gone)


def _log_progress(report: SyncReport, log) -> None:
    log.info(
        f"Page {report.pages_read}: {report.listed} datasets listed, {report.details_fetched} fetched, "
        f"{report.counts.written} written, {report.unchanged} unchanged, {report.skipped_malformed} malformed, "
        f"{report.detail_errors} detail errors"
    )
