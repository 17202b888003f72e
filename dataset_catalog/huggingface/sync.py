"""Walk the Hub listing newest-first and load the datasets of one time window."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.loader import CHECKPOINT, LoadReport, Skipped, load
from dataset_catalog.common.prefetch import prefetched
from dataset_catalog.common.windows import SyncWindow
from dataset_catalog.huggingface.mapping import MalformedItem, item_id, last_modified_of, map_item

__all__ = ["HubWalk", "SyncWindow", "sync_hf_datasets"]

logger = logging.getLogger(__name__)


@dataclass
class HubWalk:
    """What the walk saw, beyond what it loaded (`load`)."""

    pages_read: int = 0
    items_scanned: int = 0
    in_window: int = 0  # rows taken (the limit counts them)
    skipped_newer: int = 0
    cleaned: int = 0
    stop_reason: str = "end of listing"
    load: LoadReport = field(default_factory=LoadReport)


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


def sync_hf_datasets(
    pages: Iterable[list],
    store: CatalogStore,
    window: SyncWindow,
    *,
    limit: int | None = None,
    batch_size: int = 500,
    log: logging.Logger | Any = logger,
) -> HubWalk:
    """Load every well-formed item of `window` (at most `limit`), committed page by page.

    The listing is sorted by lastModified descending, so items newer than the window are
    skipped and the first item older than its start ends the walk (no further pages are
    requested). Each batch commits on its own: a failure later keeps what was written.
    """
    walk = HubWalk()

    def progress(loaded: LoadReport) -> str:
        return (
            f"Page {walk.pages_read}: scanned {walk.items_scanned} items, {walk.in_window} in window so far, "
            f"{loaded.loaded} committed, {loaded.skipped['malformed']} malformed"
        )

    walk.load = load(
        store,
        _rows(pages, window, limit, walk, log),
        batch_size=batch_size,
        commit_at_checkpoints=True,  # a page's rows are committed before the next page is read
        skip_reasons=("malformed",),
        progress=progress,
        log=log,
    )
    return walk


def _rows(pages: Iterable[list], window: SyncWindow, limit, walk: HubWalk, log) -> Iterator:
    """The walk: each page's rows and skips, then a checkpoint; stops past the window or at the limit."""
    for page in prefetched(pages, _NextPageNeeded(window, limit), name="listing-prefetch"):
        walk.pages_read += 1
        for item in page:
            walk.items_scanned += 1
            try:
                mapped = map_item(item)
            except MalformedItem as exc:
                log.warning(f"Skipped malformed Hub item {item_id(item) or '<no id>'}: {exc}")
                moment = last_modified_of(item) if isinstance(item, dict) else None
                in_window = moment is not None and window.contains(moment)
                yield Skipped("malformed", moment.date().isoformat() if in_window else None)
                continue
            if window.end is not None and mapped.last_modified >= window.end:
                walk.skipped_newer += 1
                continue
            if window.start is not None and mapped.last_modified < window.start:
                walk.stop_reason = f"reached {mapped.last_modified.isoformat()}, before the window"
                return
            if mapped.cleaned:
                walk.cleaned += 1
                log.info(f"Cleaned bad field values of Hub item {mapped.external_id}")
            yield mapped.row, mapped.last_modified.date().isoformat()
            walk.in_window += 1
            if limit is not None and walk.in_window >= limit:
                walk.stop_reason = f"limit of {limit} reached"
                return
        yield CHECKPOINT
