"""Catalog completeness per source: enrichment, activity, embedding coverage and link status."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.schema import dataset_embeddings, datasets
from dataset_catalog.catalog.store import CatalogStore


def catalog_stats(store: CatalogStore, model: str) -> dict[str, dict[str, Any]]:
    """Per source: rows by enrichment status, active/inactive, embedding coverage, link status."""
    store.ensure_schema()
    stats: dict[str, dict[str, Any]] = {}

    def entry(source: str) -> dict[str, Any]:
        return stats.setdefault(
            source,
            {"rows": 0, "active": 0, "inactive": 0, "enrichment": {}, "link_status": {}, "embedded_current_model": 0, "embedded_any_model": 0},
        )

    e = dataset_embeddings
    with store.engine.connect() as conn:
        for source, status, active, rows in conn.execute(
            sa.select(datasets.c.source, datasets.c.enrichment_status, datasets.c.is_active, sa.func.count()).group_by(
                datasets.c.source, datasets.c.enrichment_status, datasets.c.is_active
            )
        ):
            s = entry(source)
            s["rows"] += rows
            s["active" if active else "inactive"] += rows
            s["enrichment"][status] = s["enrichment"].get(status, 0) + rows
        for source, link, rows in conn.execute(
            sa.select(datasets.c.source, datasets.c.link_status, sa.func.count()).group_by(datasets.c.source, datasets.c.link_status)
        ):
            entry(source)["link_status"][link or "unchecked"] = rows
        current = sa.func.sum(sa.case((e.c.model == model, 1), else_=0))
        for source, any_model, current_model in conn.execute(
            sa.select(datasets.c.source, sa.func.count(), current)
            .select_from(e.join(datasets, datasets.c.id == e.c.dataset_id))
            .where(datasets.c.is_active.is_(True))
            .group_by(datasets.c.source)
        ):
            entry(source).update(embedded_any_model=any_model, embedded_current_model=int(current_model or 0))
    for s in stats.values():
        s["embedding_coverage"] = round(s["embedded_current_model"] / s["active"], 4) if s["active"] else 0.0
    return dict(sorted(stats.items()))
