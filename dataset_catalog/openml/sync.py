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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.catalog.loader import CHECKPOINT, LoadReport, Skipped, load
from dataset_catalog.common.prefetch import prefetched
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
LOOKUP_CHUNK = 500  # catalog rows read per query (ids bound as one IN list)
MALFORMED_SAMPLES = 20
GONE_CHECK_CHUNK = 100  # ids per confirming listing call (a URL of ~700 characters)


@dataclass
class OpenMLWalk:
    """What the walk saw, beyond what it loaded (`load`)."""

    pages_read: int = 0
    listed: int = 0  # well-formed, distinct listing items
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
    not_written: int = 0  # rows whose inputs are what the catalog holds (counted unchanged in `load`)
    stop_reason: str = "end of listing"
    load: LoadReport = field(default_factory=LoadReport)


def fetch_details(client: OpenMLClient, entry: ListingEntry) -> dict[str, Any]:
    """The detail calls of one dataset, reduced to what its row needs; data/qualities only when
    the listing carried no qualities (it normally carries the ones we keep)."""
    description = client.description(entry.dataset_id)
    features = client.features(entry.dataset_id)
    qualities = None if entry.item["qualities"] else client.qualities(entry.dataset_id)
    return reduce_details(description, features, qualities)


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
    skipped: str | None = None  # the reason a listing item gives no row


def sync_openml_datasets(
    client: OpenMLClient,
    store: CatalogStore,
    *,
    batch_size: int = 100,
    commit_seconds: float = 30.0,
    max_detail_fetches: int | None = None,
    log: logging.Logger | Any = logger,
) -> OpenMLWalk:
    """Walk the whole listing; load new and changed datasets (see the module docstring).

    A producer thread walks the listing and makes the detail calls one dataset ahead, so mapping
    and writing overlap the waits for OpenML (the pacer's, or the network's). Batches are written
    in this process: at OpenML's pace a writer process would have nothing to overlap.
    """
    walk = OpenMLWalk()
    seen: set[int] = set()

    def progress(loaded: LoadReport) -> str:
        return (
            f"Page {walk.pages_read}: {walk.listed} datasets listed, {walk.details_fetched} fetched, "
            f"{loaded.counts.written} written, {walk.not_written} unchanged, {loaded.skipped['malformed']} "
            f"malformed, {walk.detail_errors} detail errors"
        )

    walk.load = load(
        store,
        _rows(client, store, walk, max_detail_fetches, seen, log),
        batch_size=batch_size,
        in_process=True,
        commit_seconds=commit_seconds,
        skip_reasons=("malformed",),
        progress=progress,
        log=log,
    )
    walk.load.counts += UpsertCounts(unchanged=walk.not_written)
    _deactivate_gone(client, store, seen, walk, log)
    if max_detail_fetches is not None and walk.deferred:
        walk.stop_reason = f"end of listing; {walk.deferred} datasets left for the next run (max_detail_fetches)"
    return walk


def _rows(client, store, walk: OpenMLWalk, max_detail_fetches: int | None, seen: set[int], log) -> Iterator:
    """The rows to write, each followed by a checkpoint (commit_seconds, progress); warnings are
    logged here, in the caller's thread (Dagster's log is written there)."""
    for step in prefetched(_steps(client, store, walk, max_detail_fetches, seen), name="openml-details"):
        if step.warning:
            log.warning(step.warning)
        if step.skipped:
            yield Skipped(step.skipped)
        elif step.entry is not None and (row := _changed_row(step, walk)) is not None:
            yield row, None
        yield CHECKPOINT


def _steps(
    client: OpenMLClient, store: CatalogStore, walk: OpenMLWalk, max_detail_fetches: int | None, seen: set[int]
) -> Iterator[_Step]:
    """The producer: pages, the catalog's rows of each page, and the detail calls where needed."""
    for page in client.pages():
        walk.pages_read += 1
        entries, malformed = _read_page(page, seen, walk)
        yield from (_Step(None, warning=w, skipped="malformed") for w in malformed)
        stored = _stored_rows(store, entries)
        for entry in entries:
            step = _prepare(entry, stored.get(entry.external_id), client, walk, max_detail_fetches)
            if step is not None:
                yield step


def _read_page(page: Iterable[Any], seen: set[int], walk: OpenMLWalk) -> tuple[list[ListingEntry], list[str]]:
    """The page's new entries, by id, and a warning for each malformed item."""
    entries, warnings = [], []
    for item in page:
        try:
            entry = read_listing_item(item)
        except MalformedRecord as exc:
            did = item.get("did") if isinstance(item, dict) else None
            if str(did).isdigit():
                seen.add(int(did))  # listed, if unreadable: not gone
            sample = f"did={str(did)[:40]!r}: {exc}"
            if len(walk.malformed_samples) < MALFORMED_SAMPLES:
                walk.malformed_samples.append(sample)
            warnings.append(f"Skipped malformed OpenML listing item ({sample})")
            continue
        if entry.dataset_id in seen:  # the listing has no ORDER BY: a shifted page repeats items
            walk.duplicates += 1
            continue
        seen.add(entry.dataset_id)
        entries.append(entry)
    walk.listed += len(entries)
    return sorted(entries, key=lambda e: e.dataset_id), warnings


def _prepare(
    entry: ListingEntry,
    stored: dict[str, Any] | None,
    client: OpenMLClient,
    walk: OpenMLWalk,
    max_detail_fetches: int | None,
) -> _Step | None:
    """The step of one dataset: its details fetched if needed; None when it is skipped."""
    if stored is None and not entry.active:
        walk.new_inactive_skipped += 1  # never public while we watched: nothing to show or keep
        return None
    details, details_for = stored_details(stored)
    if entry.active and (details is None or details_for != entry.fingerprint):
        if max_detail_fetches is not None and walk.details_fetched >= max_detail_fetches:
            walk.deferred += 1
            return None
        try:
            details, details_for = fetch_details(client, entry), entry.fingerprint
        except OpenMLResponseError as exc:  # this dataset's own trouble; the next run tries again
            walk.detail_errors += 1
            if len(walk.detail_error_samples) < MALFORMED_SAMPLES:
                walk.detail_error_samples.append(f"{entry.dataset_id}: {exc}"[:300])
            return _Step(None, warning=f"Skipped OpenML dataset {entry.dataset_id}: {exc}")
        walk.details_fetched += 1
    return _Step(entry, stored, details, details_for)


def _changed_row(step: _Step, walk: OpenMLWalk) -> dict[str, Any] | None:
    """One dataset's row, unless the catalog already holds exactly it."""
    entry, stored = step.entry, step.stored
    row = map_row(entry, step.details, step.details_for)
    if stored is not None and stored.get("sync_hash") == row["sync_hash"]:
        walk.not_written += 1
        return None
    if stored is not None and stored.get("is_active") and not entry.active:
        walk.deactivated += 1
    elif stored is not None and not stored.get("is_active") and entry.active:
        walk.reactivated += 1
    return row


def _deactivate_gone(client: OpenMLClient, store: CatalogStore, seen: set[int], walk: OpenMLWalk, log) -> None:
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
            walk.load.counts += store.upsert_datasets(
                [{"source": SOURCE, "external_id": i, "is_active": False} for i in gone]
            )
            walk.gone += len(gone)
    if walk.gone:
        log.info(f"{walk.gone} datasets left the listing (confirmed by id): written inactive")
