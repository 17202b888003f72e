"""Phase 3: page through ListDatasets in one sort order and upsert the first `limit` datasets."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.loader import LoadReport, Skipped, load
from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.errors import CatalogConfigError
from dataset_catalog.kaggle.client import KaggleClient, KaggleResponseError
from dataset_catalog.kaggle.mapping import latest_row

logger = logging.getLogger(__name__)
LATEST_SORT_ORDERS = ("updated", "hottest", "votes")
PAGE_SIZE = 100  # ListDatasets' largest page; fewer calls at the same pace


class KaggleConfigError(CatalogConfigError):
    """A Kaggle asset got a config value it can't use."""


def check_sort_by(sort_by: str) -> str:
    if sort_by not in LATEST_SORT_ORDERS:
        raise KaggleConfigError(
            f"kaggle_latest_datasets: sort_by must be one of {', '.join(LATEST_SORT_ORDERS)}; got {sort_by!r}."
        )
    return sort_by


@dataclass
class LatestReport:
    """What the listing saw, beyond what was loaded (`load`)."""

    pages_read: int = 0
    listed: int = 0
    stop_reason: str = "end of listing"
    load: LoadReport = field(default_factory=LoadReport)


def sync_latest(
    client: KaggleClient,
    store: CatalogStore,
    *,
    sort_by: str = "updated",
    limit: int = 100,
    log: logging.Logger | Any = logger,
) -> LatestReport:
    """New refs are inserted as 'pending' for the enrichment; known rows get the listing's
    fresher counts and text, and keep their enrichment state, files and columns. The listing is
    read first and written in one transaction: a listing that goes wrong half way writes nothing."""
    check_sort_by(sort_by)
    report = LatestReport()
    rows: dict[str, dict[str, Any]] = {}
    skipped: list[Skipped] = []
    page = 1
    while len(rows) < limit:
        result = client.list_datasets(sort_by, page=page, page_size=min(PAGE_SIZE, limit))
        report.pages_read += 1
        usable = [item for item in result.datasets if latest_row(item) is not None]
        if result.datasets and not usable:
            # kagglesdk reads `"datasets": "text"` or `{...}` as items without a ref: a wrong shape.
            raise KaggleResponseError(
                f"Kaggle's dataset listing page {page} came with {len(result.datasets)} items and not one usable "
                "ref: the response has the wrong shape. Nothing was written; re-run later."
            )
        for item in result.datasets:
            report.listed += 1
            row = latest_row(item)
            if row is None:
                skipped.append(Skipped("malformed"))
                log.warning(f"Skipped a Kaggle listing item without a usable ref: {str(item.ref)[:80]!r}")
                continue
            rows.setdefault(row["external_id"], row)
            if len(rows) >= limit:
                report.stop_reason = f"limit of {limit} reached"
                break
        if not result.datasets or not result.next_page_token:
            break
        page += 1
    items = [*skipped, *(({**row, "enrichment_status": EnrichmentStatus.PENDING}, None) for row in rows.values())]
    report.load = load(
        store,
        items,
        batch_size=max(len(rows), 1),
        insert_only={"enrichment_status"},
        in_process=True,
        skip_reasons=("malformed",),
    )
    counts = report.load.counts
    log.info(
        f"Listed {report.listed} datasets by {sort_by} in {report.pages_read} pages: "
        f"{counts.inserted} new, {counts.updated} updated, {counts.unchanged} unchanged"
    )
    return report
