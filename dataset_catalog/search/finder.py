"""Finding datasets: a validated search request -> one page of records with facet counts; one
dataset with everything the catalog knows; its similar datasets. The web service and the CLI
call these; the ranking itself is search/ranking.py.

The result set of a query is its fused candidate list (the top RESULT_WINDOW of the semantic
side and of the keyword side, after filters): facets count it, sorting reorders it, paging walks
it. Semantic search matches everything to some degree, so an unbounded "all results" would
mean nothing; a bounded set keeps counts honest and answers fast.

Constraints named in the query ("in German", "on Kaggle") are read first
(search/query_understanding.py) and become filters and boosts; `understand=False` turns that off.
A candidate is a *good match* when its similarity reaches RELEVANCE_FLOOR (calibrated on the
development sets, docs/ranking.md): the page reports how many there are and the facets count
them, so a query that matches nothing says so instead of "100 results".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import LinkStatus
from dataset_catalog.catalog.search_queries import (
    CANDIDATE_COLUMNS,
    HIT_DETAIL_COLUMNS,
    SearchFilters,
    fetch_dataset,
    fetch_hit_rows,
)
from dataset_catalog.catalog.vector_store import dataset_vector, nearest_datasets
from dataset_catalog.common.languages import language_code
from dataset_catalog.common.plain_text import markup_to_text
from dataset_catalog.common.standard_fields import CREATOR_KEYS, FILE_KEYS
from dataset_catalog.embeddings.encoder import Encoder, configured_model_name
from dataset_catalog.search.facets import FacetBucket, facet_counts
from dataset_catalog.search.folding import duplicates_of, fold, other_homes
from dataset_catalog.search.getting_started import citation_of, license_terms, tag_groups
from dataset_catalog.search.query_understanding import Interpretation, understand
from dataset_catalog.search.ranking import (
    MAX_LIMIT,
    RESULT_WINDOW,
    InvalidQueryError,
    query_tokens,
    rank_catalog,
    validate_query,
)
from dataset_catalog.search.records import DatasetRecord, aware, record_from_row, why_matched

SORTS = ("relevance", "downloads", "likes", "updated")
MAX_OFFSET = 2 * RESULT_WINDOW  # the result set never holds more
FILTER_NAMES = tuple(f.name for f in fields(SearchFilters))
# How many datasets nearest to the query a filter read from its words is looked for among (docs/ranking.md).
UNDERSTOOD_FILTER_NEAREST = 4096
# ... and among how many best keyword matches: ranking more of a common word's matches costs
# ~1 us each, checking their rows ~2 us each (500k catalog: 4,096 of them ~20 ms, 1,024 ~10 ms).
UNDERSTOOD_FILTER_BEST_KEYWORD = 1024
# Cosine similarity (MiniLM) below which a candidate is not a good match (docs/ranking.md, "Good
# matches"): 99% of the relevant datasets of the DataFinder development queries reach 0.30. When no
# word of the query occurs in the catalog ("zzzzqqqxx", "asdf jkl") it takes more than any such
# query's best similarity there (0.43): meaning alone must then be clear.
RELEVANCE_FLOOR = 0.30
RELEVANCE_FLOOR_WITHOUT_WORDS = 0.45
FOLD_SLACK = 10  # neighbours asked for beyond `limit`, so folded copies leave a full list


@dataclass(frozen=True)
class SearchRequest:
    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    sort: str = "relevance"
    offset: int = 0
    limit: int = 10
    understand: bool = True  # read constraints from the query (query_understanding.py)
    ignore: tuple[str, ...] = ()  # understood constraints turned off: "language:de" or a kind ("language")
    fold: bool = True  # one hit per duplicate cluster (search/folding.py); False shows every copy

    def validated(self) -> SearchRequest:
        """The request with its query cleaned, or InvalidQueryError saying what to change."""
        if self.sort not in SORTS:
            raise InvalidQueryError(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}.")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQueryError(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}.")
        if not 0 <= self.offset < MAX_OFFSET:
            raise InvalidQueryError(f"offset must be between 0 and {MAX_OFFSET - 1}, got {self.offset}.")
        if self.filters.language and language_code(self.filters.language) is None:
            raise InvalidQueryError(
                f"Unknown language {self.filters.language!r}: give an ISO code (de) or a name (German)."
            )
        if self.filters.min_downloads is not None and self.filters.min_downloads < 0:
            raise InvalidQueryError("min_downloads must be 0 or more.")
        if len(self.ignore) > 20 or any(len(i) > 64 for i in self.ignore):
            raise InvalidQueryError("ignore takes at most 20 constraints (kind:value, e.g. language:de).")
        return replace(self, query=validate_query(self.query), ignore=tuple(self.ignore))


@dataclass
class SearchPage:
    request: SearchRequest
    total: int  # datasets in the result set
    hits: list[DatasetRecord]
    facets: dict[str, list[FacetBucket]]
    model: str
    modes: list[str]
    notes: list[str]
    took_ms: float
    good_matches: int = 0  # candidates at or above RELEVANCE_FLOOR
    interpretation: Interpretation | None = None

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {
            "query": r.query,
            "filters": {k: v for k, v in vars(r.filters).items() if v is not None},
            "sort": r.sort,
            "offset": r.offset,
            "limit": r.limit,
            "fold": r.fold,
            "total": self.total,
            "good_matches": self.good_matches,
            "interpretation": self.interpretation.to_dict() if self.interpretation else None,
            "hits": [{**h.to_dict(), "good_match": is_good_match(h.similarity, self.modes)} for h in self.hits],
            "facets": {name: [b.to_dict() for b in buckets] for name, buckets in self.facets.items()},
            "model": self.model,
            "modes": self.modes,
            "notes": self.notes,
            "took_ms": round(self.took_ms, 1),
        }


_SORT_KEYS = {
    "downloads": lambda c: -(c.row["download_count"] or 0),
    "likes": lambda c: -(c.row["like_count"] or 0),
    "updated": lambda c: -(aware(c.row["source_updated_at"]).timestamp() if c.row["source_updated_at"] else 0.0),
}


def is_good_match(similarity: float | None, modes: list[str]) -> bool:
    """Whether a candidate counts as a good match; without embeddings every keyword match does."""
    if "semantic" not in modes:
        return True
    floor = RELEVANCE_FLOOR if "keyword" in modes else RELEVANCE_FLOOR_WITHOUT_WORDS
    return similarity is not None and similarity >= floor


def _selected(filters: SearchFilters) -> dict[str, str | None]:
    language = language_code(filters.language) if filters.language else None
    return {
        "source": filters.source,
        "license": filters.license,
        "license_family": filters.license_family,
        "task": filters.task,
        "language": language,
        "format": filters.file_format,
        "modality": filters.modality,
        "size": filters.size_categories[0] if filters.size_categories and len(filters.size_categories) == 1 else None,
    }


def find(
    store: CatalogStore, request: SearchRequest, encoder: Encoder | None = None, model: str | None = None
) -> SearchPage:
    """One page of the result set of `request` (validated here), with facet counts over all of it."""
    started = time.perf_counter()
    request = request.validated()
    interpretation = understand(request.query, request.ignore) if request.understand else None
    filters = interpretation.search_filters(request.filters) if interpretation else request.filters
    ranked = rank_catalog(
        interpretation.topic if interpretation else request.query,
        store=store,
        encoder=encoder,
        model=model,
        filters=filters,
        boosts=interpretation.boosts if interpretation else (),
        # A filter read from the query's words is looked for among the datasets nearest in meaning
        # only: one far from the query is no match for it anyway, and a value no dataset carries
        # would otherwise scan the whole catalog before falling back to preferences.
        nearest_only=UNDERSTOOD_FILTER_NEAREST if filters != request.filters else None,
        best_keyword_only=UNDERSTOOD_FILTER_BEST_KEYWORD if filters != request.filters else None,
    )
    if interpretation and interpretation.filters and filters != request.filters and not ranked.candidates:
        # Nothing carries the understood tags (e.g. a source without task categories): prefer, not require.
        interpretation = interpretation.as_boosts("No dataset meets every understood constraint: used as preferences.")
        ranked = rank_catalog(
            request.query,
            store=store,
            encoder=encoder,
            model=model,
            filters=request.filters,
            boosts=interpretation.boosts,
        )
    candidates = ranked.candidates
    if request.fold:
        candidates = fold(store, candidates, lambda c: c.id, lambda c: c.row)
    if request.sort != "relevance":
        candidates = sorted(candidates, key=_SORT_KEYS[request.sort])  # stable: ties keep relevance order
    on_page = candidates[request.offset : request.offset + request.limit]
    # Highlights and "why" name every word of the query, those read as constraints too ("German").
    shown_tokens = query_tokens(request.query) if interpretation else ranked.tokens
    details = fetch_hit_rows(store, [c.id for c in on_page], HIT_DETAIL_COLUMNS)
    homes = other_homes(store, [c.id for c in on_page])
    page = []
    for candidate in on_page:
        row = {**candidate.row, **details.get(candidate.id, {})}
        record = record_from_row(row, shown_tokens)
        record.score, record.similarity = candidate.score, candidate.similarity
        record.semantic_rank, record.keyword_rank = candidate.semantic_rank, candidate.keyword_rank
        record.why = why_matched(record, row, shown_tokens)
        record.also_on = homes.get(candidate.id, [])
        page.append(record)
    good = [c for c in candidates if is_good_match(c.similarity, ranked.modes)]
    return SearchPage(
        request=request,
        total=len(candidates),
        hits=page,
        facets=facet_counts((c.row for c in good), _selected(request.filters)),
        model=ranked.model,
        modes=ranked.modes,
        notes=ranked.notes,
        took_ms=(time.perf_counter() - started) * 1000,
        good_matches=len(good),
        interpretation=interpretation,
    )


def similar_datasets(
    store: CatalogStore, row: dict[str, Any], model: str | None = None, limit: int = 10
) -> list[DatasetRecord]:
    """The `limit` datasets nearest to `row` by embedding, its own copies (duplicate cluster) left
    out and other datasets' copies folded, those of other sources first (a finder most wants what
    they have not seen yet); nearest first within each group."""
    model_name = configured_model_name(model)
    vector = dataset_vector(store, model_name, row["id"])
    if vector is None:
        return []
    own_cluster = {row["id"], *(h["id"] for h in other_homes(store, [row["id"]]).get(row["id"], []))}
    wanted = limit + len(own_cluster) + FOLD_SLACK
    neighbours = [
        (i, s) for i, s in nearest_datasets(store, model_name, vector, SearchFilters(), wanted) if i not in own_cluster
    ]
    neighbours = fold(store, neighbours, lambda n: n[0])  # copies of one other dataset count once
    rows = fetch_hit_rows(store, [i for i, _ in neighbours], (*CANDIDATE_COLUMNS, *HIT_DETAIL_COLUMNS))
    records = []
    for rank, (dataset_id, similarity) in enumerate(neighbours[:limit], start=1):
        if dataset_id in rows:
            record = record_from_row(rows[dataset_id], [])
            record.similarity, record.semantic_rank = round(similarity, 4), rank
            records.append(record)
    return sorted(records, key=lambda r: r.source == row["source"])  # stable: similarity order kept in each group


def _entries(value: Any, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """A standard list field (common/standard_fields.py) as stored: dicts with a name, keys as given."""
    if not isinstance(value, list):
        return []
    return [{k: e.get(k) for k in keys} for e in value if isinstance(e, dict) and isinstance(e.get("name"), str)]


def dataset_details(store: CatalogStore, source: str, external_id: str) -> dict[str, Any] | None:
    """Everything the catalog knows about one dataset, as a finder reads it; None if unknown."""
    row = fetch_dataset(store, source, external_id)
    if row is None:
        return None
    record = record_from_row(row)
    details = {
        "record": record,
        "row": row,
        "subtitle": row.get("subtitle"),
        "paragraphs": markup_to_text(row.get("description")).split("\n\n") if row.get("description") else [],
        "tags": [t for t in (row.get("tags") or []) if isinstance(t, str)],
        "columns": [c for c in (row.get("column_names") or []) if isinstance(c, str)],
        "files": _entries(row.get("files"), FILE_KEYS),
        "creators": _entries(row.get("creators"), CREATOR_KEYS),
        "citation": row.get("citation"),
        "duplicates": duplicates_of(store, row["id"]),
        "load": {"code": row["load_code"], "language": row.get("load_language")} if row.get("load_code") else None,
        "views": row.get("view_count"),
        "usability": row.get("usability_rating"),
        "created_at": aware(row.get("source_created_at")),
        "active": bool(row.get("is_active")),
        "link": {
            "status": row.get("link_status") or LinkStatus.UNCHECKED,
            "http_status": row.get("link_http_status"),
            "checked_at": aware(row.get("last_checked_at")),
        },
        "enrichment": {
            "status": row.get("enrichment_status"),
            "last_enriched_at": aware(row.get("last_enriched_at")),
            "attempts": row.get("enrichment_attempts"),
        },
    }
    # What gets a finder started (search/getting_started.py), worked out once for every reader.
    details["cite"] = citation_of(details, record.url or record.page_path)
    details["tag_groups"] = tag_groups(details["tags"])
    details["license_terms"] = license_terms(record)
    return details


def details_to_dict(details: dict[str, Any]) -> dict[str, Any]:
    """The JSON form of `dataset_details` (the API's whole record)."""

    def iso(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    record: DatasetRecord = details["record"]
    row = details["row"]
    return {
        **record.to_dict(),
        "subtitle": details["subtitle"],
        "description": "\n\n".join(details["paragraphs"]),
        "tags": details["tags"],
        "columns": details["columns"],
        "files": details["files"],
        "creators": details["creators"],
        "citation": details["citation"],
        "cite_as": details["cite"].to_dict(),
        "tag_groups": details["tag_groups"],
        "license_terms": details["license_terms"],
        "other_homes": details["duplicates"],
        "load": details["load"],
        "views": details["views"],
        "usability_rating": details["usability"],
        "created_at": iso(details["created_at"]),
        "active": details["active"],
        "link": {k: iso(v) for k, v in details["link"].items()},
        "enrichment": {k: iso(v) for k, v in details["enrichment"].items()},
        "catalog_updated_at": iso(row.get("updated_at")),
    }
