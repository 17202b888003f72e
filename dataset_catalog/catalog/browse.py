"""What the home page lists without a query: the facet columns of every active row (streamed),
the datasets changed most recently, and each source's freshness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore

FACET_COLUMNS = ("source", "license", "task_categories", "languages", "file_formats", "size_category", "row_count")
RECENT_COLUMNS = ("source", "external_id", "title", "url", "license", "source_updated_at", "task_categories")


def active_facet_rows(store: CatalogStore, batch: int = 5000) -> Iterator[dict[str, Any]]:
    """The facet columns of every active row, read in batches (a 500k catalog never sits in memory whole)."""
    query = sa.select(*(datasets.c[c] for c in FACET_COLUMNS)).where(datasets.c.is_active.is_(True))
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for row in result.mappings():
            yield dict(row)


def recently_updated(store: CatalogStore, sources: list[str], limit: int = 8) -> list[dict[str, Any]]:
    """The `limit` active datasets their sources changed last: the newest few of each source
    (the (source, source_updated_at) index answers each), merged."""
    rows: list[dict[str, Any]] = []
    with store.engine.connect() as conn:
        for source in sources:
            query = (
                sa.select(*(datasets.c[c] for c in RECENT_COLUMNS))
                .where(
                    datasets.c.source == source,
                    datasets.c.source_updated_at.is_not(None),
                    datasets.c.is_active.is_(True),
                )
                .order_by(datasets.c.source_updated_at.desc())
                .limit(limit)
            )
            rows.extend(dict(r) for r in conn.execute(query).mappings())
    return sorted(rows, key=lambda r: r["source_updated_at"], reverse=True)[:limit]


def source_freshness(store: CatalogStore) -> dict[str, dict[str, datetime | None]]:
    """Per source: the newest change its source reported, and when the catalog last wrote a row."""
    query = sa.select(
        datasets.c.source, sa.func.max(datasets.c.source_updated_at), sa.func.max(datasets.c.updated_at)
    ).group_by(datasets.c.source)
    with store.engine.connect() as conn:
        return {
            s: {"newest_change": changed, "catalog_written": written} for s, changed, written in conn.execute(query)
        }
