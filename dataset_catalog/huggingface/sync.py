"""Walk the Hub listing newest-first and upsert the datasets of one time window."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.huggingface.mapping import MalformedItem, item_id, map_item

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 10


@dataclass(frozen=True)
class SyncWindow:
    """[start, end) in UTC; `start=None` means no lower bound (a backfill of everything)."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


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

    @property
    def fetched(self) -> int:
        return self.counts.inserted + self.counts.updated + self.counts.unchanged


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
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            report.counts += store.upsert_datasets(batch)
            batch.clear()

    done = False
    for page in pages:
        report.pages_read += 1
        for item in page:
            report.items_scanned += 1
            try:
                mapped = map_item(item)
            except MalformedItem as exc:
                report.skipped_malformed += 1
                log.warning(f"Skipped malformed Hub item {item_id(item) or '<no id>'}: {exc}")
                continue
            if window.end is not None and mapped.last_modified >= window.end:
                report.skipped_newer += 1
                continue
            if window.start is not None and mapped.last_modified < window.start:
                report.stop_reason = f"reached {mapped.last_modified.isoformat()}, before the window"
                done = True
                break
            if mapped.cleaned:
                report.cleaned += 1
                log.info(f"Cleaned bad field values of Hub item {mapped.external_id}")
            batch.append(mapped.row)
            if len(report.preview) < PREVIEW_ROWS:
                report.preview.append(mapped.row)
            if limit is not None and report.fetched + len(batch) >= limit:
                report.stop_reason = f"limit of {limit} reached"
                done = True
                break
            if len(batch) >= batch_size:
                flush()
        flush()
        log.info(
            f"Page {report.pages_read}: scanned {report.items_scanned} items, "
            f"{report.fetched} in window ({report.counts.inserted} new, {report.counts.updated} updated), "
            f"{report.skipped_malformed} malformed"
        )
        if done:
            break
    flush()
    return report
