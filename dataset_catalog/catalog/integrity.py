"""Integrity of the datasets table, for the asset checks: duplicated keys, incomplete active rows."""

from __future__ import annotations

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore

SAMPLE = 10


def duplicate_keys(store: CatalogStore, source: str | None = None, limit: int = SAMPLE) -> tuple[int, list[dict]]:
    """(number of duplicated keys, a sample) over (source, lower(trim(external_id))).

    The unique constraint already stops exact duplicates; this also catches case or
    whitespace variants of one id (Hub and Kaggle ids are case-insensitive) and a table
    created without the constraint.
    """
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


def incomplete_active_rows(
    store: CatalogStore, source: str | None = None, limit: int = SAMPLE
) -> tuple[int, list[dict]]:
    """(count, sample) of active rows without a title or a url."""
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
