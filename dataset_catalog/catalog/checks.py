"""Read-only queries behind the asset checks (maintenance/checks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from dataset_catalog.catalog.schema import dataset_embeddings, datasets, enrichment_log
from dataset_catalog.catalog.store import CatalogStore

SAMPLE = 10


def duplicate_keys(store: CatalogStore, source: str | None = None, limit: int = SAMPLE) -> tuple[int, list[dict]]:
    """(number of duplicated keys, a sample) over (source, lower(trim(external_id))).

    The unique constraint already stops exact duplicates; this also catches case or
    whitespace variants of one id (Hub and Kaggle ids are case-insensitive) and a table
    created without the constraint.
    """
    store.ensure_schema()
    key = sa.func.lower(sa.func.trim(datasets.c.external_id)).label("key")
    grouped = sa.select(datasets.c.source, key, sa.func.count().label("rows")).group_by(datasets.c.source, key)
    if source:
        grouped = grouped.where(datasets.c.source == source)
    grouped = grouped.having(sa.func.count() > 1).subquery()
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one()
        sample = conn.execute(sa.select(grouped).order_by(grouped.c.source, grouped.c.key).limit(limit))
        return total, [dict(r._mapping) for r in sample]


def _blank(column: sa.Column) -> sa.ColumnElement[bool]:
    return sa.or_(column.is_(None), sa.func.trim(column) == "")


def incomplete_active_rows(store: CatalogStore, source: str | None = None, limit: int = SAMPLE) -> tuple[int, list[dict]]:
    """(count, sample) of active rows without a title or a url."""
    store.ensure_schema()
    c = datasets.c
    where = sa.and_(c.is_active.is_(True), sa.or_(_blank(c.title), _blank(c.url)))
    if source:
        where = sa.and_(where, c.source == source)
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(datasets).where(where)).scalar_one()
        sample = conn.execute(
            sa.select(c.source, c.external_id, c.title, c.url).where(where).order_by(c.id).limit(limit)
        )
        return total, [dict(r._mapping) for r in sample]


def enrichment_status_counts(store: CatalogStore, source: str) -> dict[str, int]:
    """Rows per enrichment_status of one source (active rows only: inactive ones aren't worked on)."""
    store.ensure_schema()
    c = datasets.c
    query = (
        sa.select(c.enrichment_status, sa.func.count())
        .where(c.source == source, c.is_active.is_(True))
        .group_by(c.enrichment_status)
    )
    with store.engine.connect() as conn:
        return dict(conn.execute(query).all())


@dataclass(frozen=True)
class EnrichmentOutcomes:
    success: int
    failed: int
    rate_limited: int
    skipped: int

    @property
    def attempts(self) -> int:
        """Attempts that say something about the datasets: successes and failures."""
        return self.success + self.failed

    @property
    def failure_rate(self) -> float:
        return self.failed / self.attempts if self.attempts else 0.0


def enrichment_outcomes(store: CatalogStore, source: str, since: datetime) -> EnrichmentOutcomes:
    """enrichment_log results of `source`'s datasets logged at or after `since`."""
    store.ensure_schema()
    query = (
        sa.select(enrichment_log.c.result, sa.func.count())
        .select_from(enrichment_log.join(datasets, datasets.c.id == enrichment_log.c.dataset_id))
        .where(datasets.c.source == source, enrichment_log.c.logged_at >= since)
        .group_by(enrichment_log.c.result)
    )
    with store.engine.connect() as conn:
        counts = dict(conn.execute(query).all())
    return EnrichmentOutcomes(
        counts.get("success", 0), counts.get("failed", 0), counts.get("rate_limited", 0), counts.get("skipped", 0)
    )


def embedding_coverage(store: CatalogStore) -> tuple[int, int]:
    """(active rows with an embedding, active rows)."""
    store.ensure_schema()
    query = sa.select(sa.func.count(dataset_embeddings.c.dataset_id), sa.func.count()).select_from(
        datasets.outerjoin(dataset_embeddings, dataset_embeddings.c.dataset_id == datasets.c.id)
    ).where(datasets.c.is_active.is_(True))
    with store.engine.connect() as conn:
        embedded, active = conn.execute(query).one()
    return embedded, active
