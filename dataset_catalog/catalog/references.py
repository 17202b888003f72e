"""Reading the text that reference counts come from, and storing the counts (`reference_count`).

The counting itself is plain code in search/references.py. Writes touch only rows whose count
changed (NULL and 0 are the same), in batches inside one transaction: a rerun with nothing new writes nothing, and a
killed run leaves the previous counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore

PAGE_SIZE = 5_000
WRITE_BATCH = 2_000


def read_reference_titles(store: CatalogStore) -> list[tuple[int, str | None]]:
    """(id, title) of every active dataset."""
    d = datasets.c
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(d.id, d.title).where(d.is_active.is_(True)).order_by(d.id))]


def iter_reference_descriptions(store: CatalogStore) -> Iterator[tuple[int, str | None]]:
    """(id, description) of every active dataset, read page by page so the catalog's text is
    never all in memory at once."""
    last_id = 0
    d = datasets.c
    while True:
        with store.engine.connect() as conn:
            page = conn.execute(
                sa.select(d.id, d.description)
                .where(d.id > last_id, d.is_active.is_(True))
                .order_by(d.id)
                .limit(PAGE_SIZE)
            ).all()
        yield from (tuple(r) for r in page)
        if len(page) < PAGE_SIZE:
            return
        last_id = page[-1].id


def write_reference_counts(store: CatalogStore, counts: Mapping[int, int]) -> int:
    """Store `counts` (dataset id -> count); returns how many rows changed."""
    d = datasets.c
    changed = 0
    ids = sorted(counts)
    with store.engine.begin() as conn:
        for start in range(0, len(ids), WRITE_BATCH):
            batch = ids[start : start + WRITE_BATCH]
            stored = dict(conn.execute(sa.select(d.id, d.reference_count).where(in_list(conn, d.id, batch))).all())
            # NULL means 0 (never counted): a first count on a big catalog writes only the mentioned few.
            updates = [
                {"row_id": i, "count": counts[i]} for i in batch if i in stored and (stored[i] or 0) != counts[i]
            ]
            if updates:
                conn.execute(
                    datasets.update()
                    .where(d.id == sa.bindparam("row_id"))
                    .values(reference_count=sa.bindparam("count")),
                    updates,
                )
                changed += len(updates)
    return changed
