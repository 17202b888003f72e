"""Search's own queries: filters as SQL clauses, which candidates pass them, and the hit rows.

The candidate lists come from catalog/keyword_index.py and catalog/vector_store.py; both apply
`filter_clauses`, so a filter means the same on either side and on either database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore

HIT_COLUMNS = (
    "id", "source", "external_id", "title", "subtitle", "url", "license", "description",
    "download_count", "like_count", "source_updated_at", "task_categories", "file_formats",
)  # fmt: skip


@dataclass(frozen=True)
class SearchFilters:
    source: str | None = None
    license: str | None = None
    task: str | None = None
    file_format: str | None = None
    min_downloads: int | None = None


def normalize_label(value: str) -> str:
    """'Text Classification' and 'text_classification' both match 'text-classification'."""
    return "-".join(value.strip().lower().replace("_", " ").split())


def _json_array_contains(store: CatalogStore, column: str, name: str, value: str) -> sa.TextClause:
    if store.dialect == "postgresql":
        array = f"CASE WHEN jsonb_typeof(datasets.{column}) = 'array' THEN datasets.{column} ELSE '[]'::jsonb END"
        sql = f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({array}) AS j(v) WHERE {{norm}} = :{name})"
        element = "j.v"
    else:
        sql = f"EXISTS (SELECT 1 FROM json_each(datasets.{column}) AS j WHERE j.type = 'text' AND {{norm}} = :{name})"
        element = "j.value"
    norm = f"lower(replace(replace({element}, '_', '-'), ' ', '-'))"
    return sa.text(sql.format(norm=norm)).bindparams(sa.bindparam(name, normalize_label(value)))


def _unindexed(store: CatalogStore, column: str):
    """The column, written so SQLite's planner cannot pick its index: every search query here
    starts from a short list of ids (or the FTS index), and without ANALYZE statistics SQLite
    would otherwise scan the low-selectivity is_active/source indexes (measured: 40 ms vs 0.3 ms)."""
    if store.dialect == "sqlite":
        return sa.literal_column(f"+datasets.{column}", datasets.c[column].type)  # unary + is a no-op on values
    return datasets.c[column]


def filter_clauses(store: CatalogStore, filters: SearchFilters) -> list[Any]:
    clauses: list[Any] = [_unindexed(store, "is_active").is_(True)]
    if filters.source:
        clauses.append(_unindexed(store, "source") == filters.source)
    if filters.license:
        clauses.append(sa.func.lower(datasets.c.license) == filters.license.strip().lower())
    if filters.min_downloads is not None:
        clauses.append(datasets.c.download_count >= filters.min_downloads)
    if filters.task:
        clauses.append(_json_array_contains(store, "task_categories", "task_filter", filters.task))
    if filters.file_format:
        clauses.append(_json_array_contains(store, "file_formats", "format_filter", filters.file_format))
    return clauses


def ids_passing_filters(store: CatalogStore, ids: Sequence[int], filters: SearchFilters) -> set[int]:
    """The ids among `ids` of active rows passing `filters`, sent as one parameter (a window of
    candidates can pass SQLite's limit on bound variables, 32766)."""
    with store.engine.connect() as conn:
        query = sa.select(datasets.c.id).where(in_list(conn, datasets.c.id, list(ids)), *filter_clauses(store, filters))
        return set(conn.execute(query).scalars())


def fetch_hit_rows(store: CatalogStore, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    query = sa.select(*(datasets.c[c] for c in HIT_COLUMNS)).where(
        datasets.c.id.in_(list(ids)), _unindexed(store, "is_active").is_(True)
    )
    with store.engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(query)}
