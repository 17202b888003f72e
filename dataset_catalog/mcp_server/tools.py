"""The MCP tools as plain functions: each takes the opened CatalogService (service/app.py) and
returns a JSON-ready dict, or raises ToolInputError saying what to change.

They go through the service API's own path: the request is built by the API's SearchParams
(same validation, same filters), answered by search/finder.py (`find`, `dataset_details`,
`similar_datasets`) and serialised by the API's serialisers (`SearchPage.to_dict`,
`DatasetRecord.to_dict`, `details_to_dict`). What is added here is only what an agent's context
needs: hits trimmed to the fields that decide a choice, lists and texts cut to a bound (saying
so), and unknown filter values named instead of answered with an empty list.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import orjson
import pydantic
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.search_queries import SearchFilters, filter_clauses
from dataset_catalog.common.cleaning import has_control_characters
from dataset_catalog.common.languages import language_code, language_name
from dataset_catalog.common.sources import catalog_sources, source_aliases
from dataset_catalog.search.facets import facet_counts
from dataset_catalog.search.finder import (
    MAX_OFFSET,
    SearchPage,
    dataset_details,
    details_to_dict,
    find,
    similar_datasets,
)
from dataset_catalog.search.ranking import InvalidQueryError
from dataset_catalog.search.records import DatasetRecord
from dataset_catalog.service.params import SearchParams

if TYPE_CHECKING:
    from dataset_catalog.service.app import CatalogService

MAX_SEARCH_LIMIT = 50  # hits per call: 50 compact hits are ~40 KB, a page an agent can still read
MAX_SIMILAR_LIMIT = 50  # the API's bound
HIT_LIST_ITEMS = 10  # tasks, languages, formats, other homes of one hit
TITLE_CHARS = 300
SNIPPET_CHARS = 300
DESCRIPTION_CHARS = 4000
# A dataset's page, bounded in steps: (items per list, characters per string). A page whose JSON
# is still over MAX_PAGE_CHARS at one step is cut again at the next.
PAGE_BOUNDS = ((50, 2000), (20, 500), (5, 200))
MAX_PAGE_CHARS = 60_000
MAX_TRUNCATION_NOTES = 20
MAX_ID_CHARS = 512
FACET_CACHE_SECONDS = 300  # whole-catalog facets read every active row: remembered for a while
# Search-ranking fields of a record, meaningless on a dataset's own page.
RANKING_FIELDS = ("snippet", "why", "score", "semantic_rank", "keyword_rank", "similarity")
# Filters whose values are free text: an unknown one silently matches nothing, so it is looked up.
FREE_FILTERS = (
    ("license", "license"),
    ("license_family", "license_family"),
    ("task", "task"),
    ("format", "file_format"),
    ("language", "language"),
)


class ToolInputError(ValueError):
    """The caller's input cannot be answered; the message says what to change."""


# -- input --------------------------------------------------------------------------------------
def _check_range(name: str, value: int, low: int, high: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ToolInputError(f"{name} must be a whole number from {low} to {high}, got {value!r}: {hint}.")


def known_source(source: str) -> str:
    """The catalog's id of `source`, given as its id, display name or an alias ("hf")."""
    wanted = (source or "").strip()
    resolved = source_aliases().get(wanted.lower()) if not has_control_characters(wanted) else None
    if resolved is None:
        raise ToolInputError(
            f"Unknown source {wanted[:64]!r}: give one of {', '.join(catalog_sources())}, or leave it out to search all."
        )
    return resolved


def _dataset_key(source: str, external_id: str) -> tuple[str, str]:
    external = (external_id or "").strip()
    if not external or len(external) > MAX_ID_CHARS or has_control_characters(external):
        raise ToolInputError(
            "external_id must be the dataset's id within its source (plain text, at most "
            f"{MAX_ID_CHARS} characters): copy it from a search_datasets hit."
        )
    return known_source(source), external


def _details(service: CatalogService, source: str, external_id: str) -> dict[str, Any]:
    source, external = _dataset_key(source, external_id)
    details = dataset_details(service.store, source, external)
    if details is None:
        raise ToolInputError(
            f"No dataset {source}/{external[:200]} in the catalog: call search_datasets and copy the source "
            "and external_id of a hit (ids are case-sensitive)."
        )
    return details


def _search_params(query: str, **fields: Any) -> SearchParams:
    """The API's own parameter model: the same bounds, control-character checks and filters."""
    if not isinstance(query, str) or not query.strip():
        raise ToolInputError(
            "The query is empty: give a few words describing the data you look for, e.g. 'german speech recognition'."
        )
    try:
        return SearchParams(q=query, **{k: v for k, v in fields.items() if v is not None})
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        raise ToolInputError(f"Invalid parameters: {problems}.") from None


def _find(service: CatalogService, params: SearchParams) -> SearchPage:
    try:
        return find(service.store, params.request(), encoder=service.encoder, model=service.model)
    except InvalidQueryError as exc:
        raise ToolInputError(str(exc)) from None


def _any_dataset_passes(service: CatalogService, filters: SearchFilters) -> bool:
    with service.store.engine.connect() as conn:
        query = sa.select(datasets.c.id).where(*filter_clauses(service.store, filters)).limit(1)
        return conn.execute(query).first() is not None


def _refuse_unknown_filters(service: CatalogService, params: SearchParams) -> None:
    """After an empty result only (it costs a scan): a filter value no active dataset carries is
    a typo or a label of another vocabulary, worth naming; a combination that matches nothing is
    an honest empty result."""
    given = params.filters()
    for name, field in FREE_FILTERS:
        value = getattr(given, field)
        if value and not _any_dataset_passes(service, SearchFilters(**{field: value})):
            code = language_code(value) if name == "language" else None
            read_as = f" (read as {language_name(code)}, {code})" if code and code != value.strip().lower() else ""
            raise ToolInputError(
                f"No dataset in the catalog has {name} {value[:100]!r}{read_as}. Call list_facets (with your "
                f"query) to see the {name} values in use, or leave the filter out."
            )


# -- output -------------------------------------------------------------------------------------
def _cut(text: str | None, chars: int) -> str | None:
    if text is None or len(text) <= chars:
        return text
    return text[: chars - 1].rstrip() + "…"


def _capped(out: dict[str, Any], name: str, values: list[Any], items: int = HIT_LIST_ITEMS) -> None:
    """`values` under `name`, at most `items` of them; how many there are when some were left out."""
    if values:
        out[name] = values[:items]
        if len(values) > items:
            out[f"{name}_total"] = len(values)


def compact_hit(record: DatasetRecord, hit: dict[str, Any]) -> dict[str, Any]:
    """A hit (`DatasetRecord.to_dict()` of `record`) with what decides a choice; empty fields left out."""
    license = hit["license"]
    out: dict[str, Any] = {
        "source": hit["source"],
        "external_id": hit["external_id"],
        "title": _cut(hit["title"], TITLE_CHARS),
        "url": hit["url"],
        "page": hit["page"],
        "license": {"spdx": license["id"], "name": license["name"], "family": license["family"]},
    }
    _capped(out, "tasks", hit["tasks"])
    _capped(out, "languages", [language["name"] for language in hit["languages"]])
    _capped(out, "formats", hit["formats"])
    extra = {
        "size": record.size_text,
        "row_count": hit["row_count"],
        "downloads": hit["downloads"],
        "likes": hit["likes"],
        "updated_at": hit["updated_at"],
        "similarity": hit["similarity"],
        "good_match": hit.get("good_match"),
        "snippet": _cut((hit["snippet"] or {}).get("text"), SNIPPET_CHARS),
        "why": hit["why"] or None,
    }
    out.update({k: v for k, v in extra.items() if v is not None})
    _capped(out, "also_on", [{k: home[k] for k in ("source", "external_id", "url")} for home in hit["also_on"]])
    return out


def _bounded(value: Any, items: int, chars: int, path: str, truncated: list[str]) -> Any:
    """`value` with every list cut to `items` and every string to `chars` (a top-level
    description to DESCRIPTION_CHARS), each cut named in `truncated`."""
    if isinstance(value, str):
        limit = max(chars, DESCRIPTION_CHARS) if path == "description" else chars
        if len(value) > limit:
            truncated.append(f"{path} ({len(value)} characters, first {limit} shown)")
            return _cut(value, limit)
        return value
    if isinstance(value, list):
        if len(value) > items:
            truncated.append(f"{path} ({len(value)} items, first {items} shown)")
        return [_bounded(v, items, chars, f"{path}[]", truncated) for v in value[:items]]
    if isinstance(value, dict):
        kept = list(value.items())
        if len(kept) > 4 * items:
            truncated.append(f"{path} ({len(kept)} keys, first {4 * items} shown)")
        return {
            k: _bounded(v, items, chars, f"{path}.{k}" if path else str(k), truncated) for k, v in kept[: 4 * items]
        }
    return value


def bounded_page(page: dict[str, Any]) -> dict[str, Any]:
    """A dataset's page cut until its JSON fits MAX_PAGE_CHARS, with the list of what was cut."""
    for items, chars in PAGE_BOUNDS:
        truncated: list[str] = []
        out = _bounded(page, items, chars, "", truncated)
        if truncated:
            # Each field once (the first of the list items' cuts), and no more of them than fit a glance.
            firsts = {t.partition(" (")[0]: t for t in reversed(truncated)}
            out["truncated"] = list(reversed(firsts.values()))[:MAX_TRUNCATION_NOTES]
        if len(orjson.dumps(out, default=str)) <= MAX_PAGE_CHARS:
            break
    return out


# -- the tools ----------------------------------------------------------------------------------
def search_datasets(
    service: CatalogService,
    query: str,
    *,
    source: str | None = None,
    license: str | None = None,
    license_family: str | None = None,
    task: str | None = None,
    language: str | None = None,
    format: str | None = None,
    modality: str | None = None,
    size: str | None = None,
    limit: int = 10,
    offset: int = 0,
    fold: bool = True,
) -> dict[str, Any]:
    _check_range("limit", limit, 1, MAX_SEARCH_LIMIT, "ask for fewer hits and page with offset")
    _check_range("offset", offset, 0, MAX_OFFSET - 1, f"the result set holds at most {MAX_OFFSET} datasets")
    params = _search_params(
        query,
        source=known_source(source) if source else None,
        license=license,
        license_family=license_family,
        task=task,
        language=language,
        format=format,
        modality=modality,
        size=size,
        limit=limit,
        offset=offset,
        fold=fold,
    )
    page = _find(service, params)
    if page.total == 0:
        _refuse_unknown_filters(service, params)
    full = page.to_dict()
    shown = offset + len(page.hits)
    return {
        "query": full["query"],
        "filters": full["filters"],
        "interpretation": full["interpretation"],
        "total": full["total"],
        "good_matches": full["good_matches"],
        "offset": offset,
        "next_offset": shown if shown < full["total"] and shown < MAX_OFFSET else None,
        "fold": fold,
        "modes": full["modes"],
        "notes": full["notes"],
        "hits": [compact_hit(record, hit) for record, hit in zip(page.hits, full["hits"])],
    }


def get_dataset(service: CatalogService, source: str, external_id: str) -> dict[str, Any]:
    page = details_to_dict(_details(service, source, external_id))
    for name in RANKING_FIELDS:
        page.pop(name, None)
    return bounded_page(page)


def similar(service: CatalogService, source: str, external_id: str, limit: int = 10) -> dict[str, Any]:
    _check_range("limit", limit, 1, MAX_SIMILAR_LIMIT, "ask for fewer datasets")
    details = _details(service, source, external_id)
    records = similar_datasets(service.store, details["row"], model=service.model, limit=limit)
    record: DatasetRecord = details["record"]
    out: dict[str, Any] = {
        "dataset": {
            "source": record.source,
            "external_id": record.external_id,
            "title": _cut(record.title, TITLE_CHARS),
        },
        "model": service.model,
        "similar": [compact_hit(r, r.to_dict()) for r in records],
    }
    if not records:
        out["note"] = (
            "This dataset has no embedding yet (dataset_embeddings has not reached it), so nothing is known "
            "to be similar: call search_datasets with words from its title or description instead."
        )
    return out


_facet_cache: dict[int, tuple[float, dict[str, Any]]] = {}
_facet_lock = threading.Lock()


def _buckets(facets: dict[str, list]) -> dict[str, list[dict[str, Any]]]:
    return {name: [{k: b[k] for k in ("value", "label", "count")} for b in buckets] for name, buckets in facets.items()}


def _catalog_facets(service: CatalogService) -> dict[str, Any]:
    """Facets over every active dataset, through the same counter the result set's facets use."""
    store = service.store
    with _facet_lock:  # one scan at a time; the others wait for its answer
        cached = _facet_cache.get(id(store))
        if cached and cached[0] > time.monotonic():
            return cached[1]
        total = 0
        columns = [datasets.c[c] for c in ("source", "license", "task_categories", "languages", "file_formats")]
        with store.engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(
                sa.select(*columns).where(datasets.c.is_active.is_(True))
            )

            def counted():
                nonlocal total
                for row in rows:
                    total += 1
                    yield row._mapping

            facets = facet_counts(counted(), {})
        answer = {
            "scope": "catalog",
            "total": total,
            "facets": _buckets({k: [b.to_dict() for b in v] for k, v in facets.items()}),
        }
        _facet_cache[id(store)] = (time.monotonic() + FACET_CACHE_SECONDS, answer)
        return answer


def list_facets(service: CatalogService, query: str | None = None) -> dict[str, Any]:
    if query is None or not query.strip():
        out = dict(_catalog_facets(service))
        out["note"] = "Counts over every active dataset (each copy on each site counted); the top values per facet."
        return out
    full = _find(service, _search_params(query, limit=1)).to_dict()
    return {
        "scope": "query",
        "query": full["query"],
        "interpretation": full["interpretation"],
        "total": full["total"],
        "good_matches": full["good_matches"],
        "facets": _buckets(full["facets"]),
        "notes": full["notes"],
        "note": "Counts over the query's good matches (one per dataset however many sites host it); the top values per facet.",
    }
