"""Search's own queries: filters as SQL clauses, which candidates pass them, and the hit rows.

The candidate lists come from catalog/keyword_index.py and catalog/vector_store.py; both apply
`filter_clauses`, so a filter means the same on either side and on either database.
License filters go through the one license vocabulary (common/licenses.py): the catalog keeps
each source's own label, and a filter by SPDX id or family becomes the list of stored labels
that normalise to it (the distinct labels are few; they are re-read every LICENSE_LABELS_TTL).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.upsert_statements import json_dumps
from dataset_catalog.common.languages import language_code
from dataset_catalog.common.licenses import matches_family, matches_license, normalize_license
from dataset_catalog.common.modalities import FORMAT_MODALITIES, MODALITIES
from dataset_catalog.common.sizes import SIZE_CATEGORIES

# What ranking, facets and sorting read for every candidate (no long text).
CANDIDATE_COLUMNS = (
    "id",
    "source",
    "external_id",
    "title",
    "license",
    "download_count",
    "like_count",
    "source_updated_at",
    "task_categories",
    "languages",
    "file_formats",
    "reference_count",
    "size_category",
    "row_count",
)
# What a listed hit shows besides those.
HIT_DETAIL_COLUMNS = ("subtitle", "url", "description", "tags", "size_bytes")
LICENSE_LABELS_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class SearchFilters:
    source: str | None = None
    license: str | None = None  # an SPDX id (CC0-1.0), our id (openrail) or a source's own label
    task: str | None = None
    file_format: str | None = None
    min_downloads: int | None = None
    license_family: str | None = None  # cc-by, cc-by-sa, apache, gpl, ... (common/licenses.py)
    language: str | None = None  # an ISO code or a language name ("de", "deu", "German")
    # Set by query understanding (search/query_understanding.py): any of these license families,
    # and any of these Hub size categories ("1K<n<10K") among the dataset's size tags.
    license_families: tuple[str, ...] | None = None
    size_categories: tuple[str, ...] | None = None
    # A modality (common/modalities.py): any of its tasks, else a format that says it.
    modality: str | None = None


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


def _json_array_any(
    store: CatalogStore, column: str, name: str, values: Sequence[str], present: bool = True
) -> sa.TextClause:
    """Whether the JSON array `column` holds any of `values` (compared as normalize_label does);
    with `present` False, whether it holds none of them."""
    exists = "EXISTS" if present else "NOT EXISTS"
    if store.dialect == "postgresql":
        array = f"CASE WHEN jsonb_typeof(datasets.{column}) = 'array' THEN datasets.{column} ELSE '[]'::jsonb END"
        sql = f"{exists} (SELECT 1 FROM jsonb_array_elements_text({array}) AS j(v) WHERE {{norm}} = ANY(:{name}))"
        element = "j.v"
        wanted: Any = sa.bindparam(name, [normalize_label(v) for v in values], type_=sa.ARRAY(sa.Text))
    else:
        sql = (
            f"{exists} (SELECT 1 FROM json_each(datasets.{column}) AS j WHERE j.type = 'text' "
            f"AND {{norm}} IN (SELECT value FROM json_each(:{name})))"
        )
        element = "j.value"
        wanted = sa.bindparam(name, json_dumps([normalize_label(v) for v in values]), type_=sa.Text)
    norm = f"lower(replace(replace({element}, '_', '-'), ' ', '-'))"
    return sa.text(sql.format(norm=norm)).bindparams(wanted)


def _unindexed(store: CatalogStore, column: str):
    """The column, written so SQLite's planner cannot pick its index: every search query here
    starts from a short list of ids (or the FTS index), and without ANALYZE statistics SQLite
    would otherwise scan the low-selectivity is_active/source indexes (measured: 40 ms vs 0.3 ms)."""
    if store.dialect == "sqlite":
        return sa.literal_column(f"+datasets.{column}", datasets.c[column].type)  # unary + is a no-op on values
    return datasets.c[column]


def license_labels(store: CatalogStore) -> list[str]:
    """The distinct license labels stored (kept on the store for LICENSE_LABELS_TTL_SECONDS)."""
    cached = store.license_labels
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with store.engine.connect() as conn:
        labels = list(
            conn.execute(sa.select(datasets.c.license).where(datasets.c.license.is_not(None)).distinct()).scalars()
        )
    store.license_labels = (time.monotonic() + LICENSE_LABELS_TTL_SECONDS, labels)
    return labels


def _license_clause(store: CatalogStore, filters: SearchFilters) -> Any:
    labels = [
        label
        for label in license_labels(store)
        if (not filters.license or matches_license(label, filters.license))
        and (not filters.license_family or matches_family(label, filters.license_family))
        and (not filters.license_families or normalize_license(label).family in filters.license_families)
    ]
    return _unindexed(store, "license").in_(labels) if labels else sa.false()


def filter_clauses(store: CatalogStore, filters: SearchFilters) -> list[Any]:
    clauses: list[Any] = [_unindexed(store, "is_active").is_(True)]
    if filters.source:
        clauses.append(_unindexed(store, "source") == filters.source)
    if filters.license or filters.license_family or filters.license_families:
        clauses.append(_license_clause(store, filters))
    if filters.language:
        code = language_code(filters.language)
        clauses.append(_json_array_contains(store, "languages", "language_filter", code) if code else sa.false())
    if filters.min_downloads is not None:
        clauses.append(datasets.c.download_count >= filters.min_downloads)
    if filters.task:
        clauses.append(_json_array_contains(store, "task_categories", "task_filter", filters.task))
    if filters.file_format:
        clauses.append(_json_array_contains(store, "file_formats", "format_filter", filters.file_format))
    if filters.size_categories:
        clauses.append(_size_clause(store, filters.size_categories))
    if filters.modality:
        clauses.append(_modality_clause(store, filters.modality))
    return clauses


def _size_clause(store: CatalogStore, sizes: Sequence[str]) -> Any:
    """Rows tagged with any of these Hub size categories, or (sources without them) whose row
    count falls in one: the same rule as the size facet (common/sizes.py size_category_of)."""
    size_tags = [f"size_categories:{size}" for size in sizes]
    ranges = [
        sa.and_(datasets.c.row_count >= low, datasets.c.row_count < high)
        if high != float("inf")
        else datasets.c.row_count >= low
        for name, low, high in SIZE_CATEGORIES
        if name in sizes
    ]
    by_count = sa.and_(datasets.c.size_category.is_(None), sa.or_(*ranges)) if ranges else sa.false()
    return sa.or_(
        datasets.c.size_category.in_(list(sizes)), _json_array_any(store, "tags", "size_filter", size_tags), by_count
    )


def _modality_clause(store: CatalogStore, modality: str) -> Any:
    """The modality facet's rule (common/modalities.py modalities_of) as SQL: a task of the modality,
    or, with no task of any modality, a file format that says it."""
    tasks = MODALITIES.get(modality, ((), frozenset()))[1]
    formats = [f for f, m in FORMAT_MODALITIES.items() if m == modality]
    if not tasks and not formats:
        return sa.false()
    any_modal_task = sorted(set().union(*(task_set for _, task_set in MODALITIES.values())))
    by_task = _json_array_any(store, "task_categories", "modality_tasks", sorted(tasks)) if tasks else sa.false()
    by_format = (
        sa.and_(
            _json_array_any(store, "task_categories", "modal_tasks", any_modal_task, present=False),
            _json_array_any(store, "file_formats", "modality_formats", formats),
        )
        if formats
        else sa.false()
    )
    return sa.or_(by_task, by_format)


def ids_passing_filters(store: CatalogStore, ids: Sequence[int], filters: SearchFilters) -> set[int]:
    """The ids among `ids` of active rows passing `filters`, sent as one parameter (a window of
    candidates can pass SQLite's limit on bound variables, 32766)."""
    with store.engine.connect() as conn:
        query = sa.select(datasets.c.id).where(in_list(conn, datasets.c.id, list(ids)), *filter_clauses(store, filters))
        return set(conn.execute(query).scalars())


def fetch_hit_rows(
    store: CatalogStore, ids: Sequence[int], columns: Sequence[str] = CANDIDATE_COLUMNS
) -> dict[int, dict[str, Any]]:
    """`columns` (and id) of the active rows among `ids`."""
    if not ids:
        return {}
    wanted = dict.fromkeys(("id", *columns))
    with store.engine.connect() as conn:
        query = sa.select(*(datasets.c[c] for c in wanted)).where(
            in_list(conn, datasets.c.id, list(ids)), _unindexed(store, "is_active").is_(True)
        )
        return {r.id: dict(r._mapping) for r in conn.execute(query)}


def fetch_dataset(store: CatalogStore, source: str, external_id: str) -> dict[str, Any] | None:
    """The whole catalog row of one dataset (active or not), or None."""
    query = sa.select(datasets).where(datasets.c.source == source, datasets.c.external_id == external_id)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return dict(row._mapping) if row else None
