"""The ranking behind search/finder.py: the query checked and cut into words, semantic (cosine
over embeddings) and keyword (bm25 / ts_rank) candidates, fused by score, with priors for how
much a dataset is used.

    score = similarity                                  (cosine with the query)
          + 0.05 * keyword_score / best keyword_score   (0 when not a keyword candidate)
          + closeness * min(PRIOR_CAP, prior)           (bounded: see below)
          + 0.15 * constraints met                      (boosts read from the query: query_understanding.py)
    prior = 0.08 * ln(1 + reference_count)              (other datasets naming it: search/references.py)
          + 0.05 * popularity                           (downloads and likes)
    popularity = min(1, log10(1 + downloads + 10 * likes) / 7)    (10M downloads -> 1)
    closeness = max(0, 1 - ((best similarity - similarity) / PRIOR_MARGIN) ** 2)

Priors only reorder datasets about equally close to the query: a dataset PRIOR_MARGIN (0.35)
below the best similarity gets none, near-ties get nearly all, and no prior is worth more than
PRIOR_CAP (0.25), so no prior lifts a dataset over one more than 0.18 closer to the query
("named entity recognition news" once had Wikipedia first on its reference count alone, 0.2 less
similar than the news NER sets). Chosen on the development sets (docs/ranking.md). `priors="additive"` is the formula before that
(the full prior for every candidate), kept for bench_relevance.py's comparison.

A keyword-only candidate is given the lowest similarity of the semantic list (its own is at most
that). Measured on the DataFinder development set (docs/ranking.md): reciprocal rank fusion
with equal weights ranked below cosine alone, because the keyword side is the weaker one; the
reference prior is what lifts the datasets people actually use over look-alikes.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.keyword_index import ensure_keyword_index, keyword_candidates
from dataset_catalog.catalog.search_queries import SearchFilters, fetch_hit_rows
from dataset_catalog.catalog.vector_store import nearest_datasets, stored_dimension
from dataset_catalog.embeddings.encoder import Encoder, configured_model_name, encode_query, load_query_encoder
from dataset_catalog.errors import DatasetCatalogError

if TYPE_CHECKING:
    from dataset_catalog.search.query_understanding import Constraint

KEYWORD_WEIGHT = 0.05
REFERENCE_WEIGHT = 0.08
POPULARITY_WEIGHT = 0.05
PRIOR_MARGIN = 0.35
PRIOR_CAP = 0.25
BOOST_WEIGHT = 0.15
PRIOR_MODES = ("bounded", "additive")
MAX_QUERY_CHARS = 2_000  # the model reads ~256 tokens; longer input only costs time
MAX_TOKENS = 32
MAX_TOKEN_CHARS = 64
MAX_LIMIT = 100
RESULT_WINDOW = 100  # candidates per side: the result set a page, facets and sorting work on
_TOKEN = re.compile(r"[^\W_]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Words that match nearly every catalog entry: they add no signal and make keyword scans slow.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "data",
        "dataset",
        "datasets",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "which",
        "with",
        "about",
        "any",
        "all",
        "can",
        "using",
        "used",
    ]
)


# The keyword side's worker threads (its SQL runs while the query is embedded), shared by all searches.
_keyword_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="keyword-search")


class InvalidQueryError(DatasetCatalogError):
    """The search query or its options cannot be used (e.g. an empty query)."""


def query_tokens(query: str) -> list[str]:
    """Word tokens for the keyword side: letters and digits only (so no FTS/SQL syntax survives),
    lower-cased, stopwords dropped, at most 32 distinct tokens."""
    tokens: dict[str, None] = {}
    for token in _TOKEN.findall(query.lower()):
        if token not in STOPWORDS and len(token) <= MAX_TOKEN_CHARS:
            tokens.setdefault(token, None)
        if len(tokens) >= MAX_TOKENS:
            break
    return list(tokens)


def validate_query(query: str | None) -> str:
    # Lone surrogates (an invalid UTF-8 byte in a shell argument) break the model's tokenizer.
    text = _SURROGATES.sub("", (query or "").replace("\x00", " ")).strip()
    if not text:
        raise InvalidQueryError("The search query is empty: give some words describing the data you look for.")
    return text[:MAX_QUERY_CHARS]


def popularity(downloads: int | None, likes: int | None) -> float:
    total = max(downloads or 0, 0) + 10 * max(likes or 0, 0)
    return min(1.0, math.log10(1 + total) / 7)


def fused_score(
    similarity: float,
    keyword: float,
    reference_count: int | None,
    popular: float,
    best_similarity: float | None = None,
    priors: str = "bounded",
) -> float:
    """The module docstring's formula; `keyword` is already divided by the best keyword score."""
    prior = REFERENCE_WEIGHT * math.log1p(max(reference_count or 0, 0)) + POPULARITY_WEIGHT * popular
    if priors == "bounded":
        best = similarity if best_similarity is None else best_similarity
        closeness = max(0.0, 1.0 - ((best - similarity) / PRIOR_MARGIN) ** 2)
        prior = closeness * min(PRIOR_CAP, prior)
    return similarity + KEYWORD_WEIGHT * keyword + prior


@dataclass
class RankedCandidate:
    """One dataset of the fused result set, with the light columns read for it (CANDIDATE_COLUMNS)."""

    id: int
    score: float
    row: dict[str, Any]
    semantic_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None


@dataclass
class RankedList:
    """The whole fused result set of a query, best first (at most `window` per side)."""

    query: str
    tokens: list[str]
    model: str
    candidates: list[RankedCandidate]
    modes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_QUERY_VECTOR_CACHE_SIZE = 1024
_query_vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_query_vectors_lock = threading.Lock()


def cached_query_vector(encoder: Encoder, text: str) -> np.ndarray:
    """The query's vector, remembered for the last 1,024 queries: paging and facet clicks
    repeat a query, and encoding it is most of a warm search's time."""
    key = (encoder.name, text)
    with _query_vectors_lock:
        vector = _query_vectors.get(key)
        if vector is not None:
            _query_vectors.move_to_end(key)
            return vector
    vector = encode_query(encoder, text)
    vector.setflags(write=False)
    with _query_vectors_lock:
        _query_vectors[key] = vector
        while len(_query_vectors) > _QUERY_VECTOR_CACHE_SIZE:
            _query_vectors.popitem(last=False)
    return vector


def rank_catalog(
    query: str,
    *,
    store: CatalogStore,
    encoder: Encoder | None = None,
    model: str | None = None,
    filters: SearchFilters | None = None,
    window: int = RESULT_WINDOW,
    boosts: Sequence[Constraint] = (),
    priors: str = "bounded",
    nearest_only: int | None = None,
    best_keyword_only: int | None = None,
) -> RankedList:
    """Every fused candidate for `query` (the top `window` of each side), scored and sorted;
    see the module docstring for the formula. `boosts`: constraints a candidate is rewarded for meeting.
    `nearest_only` / `best_keyword_only`: look for rows passing the filters among about that many
    rows nearest to the query / best keyword matches only (None: among all rows)."""
    text = validate_query(query)
    filters = filters or SearchFilters()
    model_name = encoder.name if encoder else configured_model_name(model)
    tokens = query_tokens(text)
    result = RankedList(query=text, tokens=tokens, model=model_name, candidates=[])
    ensure_keyword_index(store)
    semantic: list[tuple[int, float]] = []
    # The keyword query (SQL) runs beside query embedding + nearest-neighbour search (torch /
    # numpy): both release the GIL, so the two halves overlap instead of adding up.
    keyword_future = _keyword_pool.submit(keyword_candidates, store, tokens, filters, window, best_keyword_only)
    if stored_dimension(store, model_name) is None:
        result.notes.append(
            f"No embeddings for model {model_name!r} yet: keyword results only (materialize dataset_embeddings)."
        )
    else:
        encoder = encoder or load_query_encoder(model_name)
        vector = cached_query_vector(encoder, text)
        semantic = nearest_datasets(store, model_name, vector, filters, window, nearest_only)
    keyword = keyword_future.result()
    result.modes = [m for m, c in (("semantic", semantic), ("keyword", keyword)) if c]

    fused: dict[int, dict[str, Any]] = {}
    for rank, (dataset_id, similarity) in enumerate(semantic, start=1):
        fused.setdefault(dataset_id, {})["semantic"] = (rank, similarity)
    for rank, (dataset_id, _score) in enumerate(keyword, start=1):
        fused.setdefault(dataset_id, {})["keyword"] = (rank, _score)
    similarity_floor = min((s for _, s in semantic), default=0.0)
    best_similarity = max((s for _, s in semantic), default=0.0)
    best_keyword = max((s for _, s in keyword), default=0.0)
    rows = fetch_hit_rows(store, list(fused))
    for dataset_id, parts in fused.items():
        row = rows.get(dataset_id)
        if row is None:
            continue  # deleted or deactivated since the candidates were read
        sem, kw = parts.get("semantic"), parts.get("keyword")
        score = fused_score(
            sem[1] if sem else similarity_floor,
            kw[1] / best_keyword if kw and best_keyword > 0 else 0.0,
            row.get("reference_count"),
            popularity(row["download_count"], row["like_count"]),
            best_similarity,
            priors,
        ) + BOOST_WEIGHT * sum(1 for b in boosts if b.matches(row))
        result.candidates.append(
            RankedCandidate(
                id=dataset_id,
                score=round(score, 6),
                row=row,
                semantic_rank=sem[0] if sem else None,
                keyword_rank=kw[0] if kw else None,
                similarity=round(sem[1], 4) if sem else None,
            )
        )
    result.candidates.sort(key=lambda c: (-c.score, c.id))
    return result
