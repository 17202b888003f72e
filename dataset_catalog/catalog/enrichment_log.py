"""The `enrichment_log`: one row per attempt of any stage (a source's enrichment, embedding)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.engine import utcnow
from dataset_catalog.catalog.schema import EnrichmentResult, datasets, enrichment_log
from dataset_catalog.catalog.store import CatalogStore


def log_attempts(store: CatalogStore, entries: Iterable[Mapping[str, Any]]) -> int:
    """Append rows (dataset_id, stage, result, attempt, error_type, error_message, duration_ms, run_id)."""
    entries = [{"logged_at": utcnow(), **e} for e in entries]
    if entries:
        with store.engine.begin() as conn:
            conn.execute(sa.insert(enrichment_log), entries)
    return len(entries)


def log_rows(store: CatalogStore, dataset_id: int | None = None) -> list[dict[str, Any]]:
    """The log, oldest first (for metadata, tests and operators)."""
    query = sa.select(enrichment_log).order_by(enrichment_log.c.id)
    if dataset_id is not None:
        query = query.where(enrichment_log.c.dataset_id == dataset_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


@dataclass(frozen=True)
class EnrichmentOutcomes:
    success: int
    failed: int
    rate_limited: int
    skipped: int
    source_unavailable: int

    @property
    def attempts(self) -> int:
        """Attempts that say something about the datasets: successes and failures."""
        return self.success + self.failed

    @property
    def failure_rate(self) -> float:
        return self.failed / self.attempts if self.attempts else 0.0


def outcomes_since(store: CatalogStore, source: str, since: datetime) -> EnrichmentOutcomes:
    """Results logged for `source`'s datasets at or after `since`."""
    query = (
        sa.select(enrichment_log.c.result, sa.func.count())
        .select_from(enrichment_log.join(datasets, datasets.c.id == enrichment_log.c.dataset_id))
        .where(datasets.c.source == source, enrichment_log.c.logged_at >= since)
        .group_by(enrichment_log.c.result)
    )
    with store.engine.connect() as conn:
        counts = dict(conn.execute(query).all())
    return EnrichmentOutcomes(*(counts.get(result, 0) for result in EnrichmentResult.ALL))
