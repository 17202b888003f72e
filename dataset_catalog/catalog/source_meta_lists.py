"""Rows found by a number in a list inside `source_meta` (e.g. Zenodo's `version_recids`): a
source that learns of a deleted version by its own id finds the row that lists it here.

A scan of the source's rows with a JSON test per row: used for rare events (deletions), not per
record. SQLite walks the list with json_each, PostgreSQL with jsonb_array_elements_text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.upsert_statements import json_dumps

_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def rows_listing_numbers(store: CatalogStore, source: str, key: str, numbers: Sequence[int]) -> list[dict[str, Any]]:
    """(external_id, source_meta) of `source`'s rows whose `source_meta[key]` lists any of `numbers`."""
    if not numbers:
        return []
    if not _KEY.match(key):
        raise ValueError(f"not a source_meta key: {key!r}")
    d = datasets.c
    if store.dialect == "postgresql":
        listed = sa.text(
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text("
            "CASE WHEN jsonb_typeof(datasets.source_meta -> :meta_key) = 'array' THEN datasets.source_meta -> :meta_key "
            "ELSE '[]'::jsonb END) AS listed(value) WHERE listed.value = ANY(:wanted))"
        ).bindparams(meta_key=key, wanted=[str(int(n)) for n in numbers])
    else:
        listed = sa.text(
            "EXISTS (SELECT 1 FROM json_each(datasets.source_meta, :meta_path) AS listed "
            "WHERE listed.value IN (SELECT value FROM json_each(:wanted)))"
        ).bindparams(meta_path=f"$.{key}", wanted=json_dumps([int(n) for n in numbers]))
    query = sa.select(d.external_id, d.source_meta).where(d.source == source, listed)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
