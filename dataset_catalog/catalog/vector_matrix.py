"""SQLite's nearest-neighbour search: a model's vectors in memory, searched with an HNSW index
(catalog/vector_index.py) once there are many, else scanned exactly with numpy.

SQLite has no vector index, so the store keeps each model's vectors as one float32 matrix
(`store.vector_matrices`), loaded on the first query (~5 s and 770 MB for 500k x 384) and
reloaded when the `embedding_generation` token changes (every write of vectors replaces it).
An exact scan of 500k x 384 takes ~43 ms on 2 cores, so from ANN_MIN_VECTORS rows on the matrix
gets a usearch HNSW index (~1 ms a query), loaded from its file beside the catalog or, after the
vectors changed, built in a background thread while queries keep scanning exactly.
`prepare_vectors` does the loading (and any build) up front, for a service's start-up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog import vector_file, vector_index
from dataset_catalog.catalog.schema import EMBEDDINGS_GENERATION_KEY, dataset_embeddings, embedding_generation
from dataset_catalog.catalog.search_queries import SearchFilters, ids_passing_filters
from dataset_catalog.catalog.store import CatalogStore

# Filtered ANN queries ask the index for x8 more candidates until `limit` pass the filters; past
# this many (or ANN_MAX_FRACTION of the matrix) the exact scan is cheaper and cannot miss a row.
ANN_MAX_CANDIDATES = 20_000
ANN_MAX_FRACTION = 0.1
GENERATION_RECHECK_SECONDS = 1.0


@dataclass(eq=False)
class VectorMatrix:
    generation: str | None
    ids: np.ndarray  # int64 dataset ids, one per matrix row
    matrix: np.ndarray  # float32, unit-length rows
    ann: vector_index.AnnIndex | None = None  # set once loaded or built; None: exact scans
    build_thread: threading.Thread | None = field(default=None, repr=False)  # a background build
    checked_at: float = 0.0  # monotonic time its generation was last compared with the stored one


def current_generation(store: CatalogStore) -> str | None:
    with store.engine.connect() as conn:
        return _generation(conn)


def _generation(conn: sa.Connection) -> str | None:
    return conn.execute(
        sa.select(embedding_generation.c.generation).where(embedding_generation.c.name == EMBEDDINGS_GENERATION_KEY)
    ).scalar_one_or_none()


def vector_matrix(store: CatalogStore, model: str) -> VectorMatrix:
    """The model's vectors, from the store's memory unless the stored ones changed since; a new
    matrix gets its ANN index from its file, else from a background build. A read-only store
    (the search service) asks for the generation at most once per GENERATION_RECHECK_SECONDS."""
    cached = store.vector_matrices.get(model)
    if store.read_only and cached is not None and cached.checked_at > time.monotonic() - GENERATION_RECHECK_SECONDS:
        return cached
    generation = current_generation(store)
    with store.lock:
        cached = store.vector_matrices.get(model)
        if cached is None or cached.generation != generation:
            cached = store.vector_matrices[model] = load_vector_matrix(store, model, generation)
            vector_index.ensure_index(store, model, cached, background=True, build=store.builds_ann_index)
        cached.checked_at = time.monotonic()
        return cached


def prepare_vectors(store: CatalogStore, model: str) -> dict[str, Any]:
    """Load `model`'s vectors and their ANN index now rather than on the first query (a search
    service's start-up), building and saving the index if no file holds it; returns what it did:
    {"model", "vectors" (count), "dimension", "search": "ann" | "exact", "index": "exact" |
    "loaded" | "built" | "ready", "index_path", "vectors_seconds", "index_seconds"}."""
    generation = current_generation(store)
    with store.lock:
        started = time.perf_counter()
        cached = store.vector_matrices.get(model)
        if cached is None or cached.generation != generation:
            cached = store.vector_matrices[model] = load_vector_matrix(store, model, generation)
        loaded = time.perf_counter()
        action = vector_index.ensure_index(store, model, cached, background=False)
        done = time.perf_counter()
    ann = cached.ann
    return {
        "model": model,
        "vectors": int(cached.ids.size),
        "dimension": int(cached.matrix.shape[1]),
        "search": "ann" if ann is not None else "exact",
        "index": action,
        "index_path": str(ann.path) if ann is not None and ann.path is not None else None,
        "vectors_seconds": round(loaded - started, 3),
        "index_seconds": round(done - loaded, 3),
    }


def load_vector_matrix(store: CatalogStore, model: str, generation: str | None) -> VectorMatrix:
    """Every vector of `model` (of its first dimension), streamed into one matrix, labelled with
    the generation read just before the rows (`generation` is the caller's earlier reading)."""
    e = dataset_embeddings
    where = e.c.model == model
    mapped = vector_file.load_matrix_file(store, model, generation)
    if mapped is not None:
        return VectorMatrix(generation, *mapped)
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(e).where(where)).scalar_one()
        # Read before the rows: vectors written meanwhile make the rows newer than their label (the
        # next query reloads), never older, so an index file named for a generation holds its rows.
        generation = _generation(conn)
        dimension = conn.execute(sa.select(e.c.dimension).where(where).limit(1)).scalar_one_or_none()
        ids = np.empty(count, dtype=np.int64)
        matrix = np.empty((count, dimension or 0), dtype=np.float32)
        n = 0
        result = conn.execution_options(stream_results=True).execute(
            sa.select(e.c.dataset_id, e.c.embedding).where(where, e.c.dimension == dimension)
        )
        for chunk in result.partitions(10_000):
            for dataset_id, blob in chunk:
                if n == count:
                    break  # rows added between the count and the scan: the next refresh takes them
                ids[n] = dataset_id
                matrix[n] = np.frombuffer(blob, dtype="<f4")
                n += 1
    if n >= vector_index.ANN_MIN_VECTORS:  # small matrices load from rows in well under a second
        vector_file.save_matrix_file(store, model, generation, ids[:n], matrix[:n])
    return VectorMatrix(generation, ids[:n], matrix[:n])


def nearest_in_matrix(
    store: CatalogStore,
    model: str,
    query_vector: np.ndarray,
    filters: SearchFilters,
    limit: int,
    nearest_only: int | None = None,
) -> list[tuple[int, float]]:
    """(dataset id, cosine similarity) best first among rows passing the filters: from the ANN
    index's candidates when the matrix has one, else (or when too few candidates pass) exactly.
    `nearest_only`: look for rows passing the filters among about that many rows nearest to the
    query only, and return those found even if fewer than `limit` (None: all rows, exactly)."""
    vectors = vector_matrix(store, model)
    if vectors.ids.size == 0 or limit <= 0:
        return []
    query = query_vector.astype(np.float32)
    ann = vectors.ann
    checked: dict[int, bool] = {}  # ids already checked against the filters, and whether they pass
    if ann is not None:
        found, complete = _nearest_by_ann(store, vectors, ann, query, filters, limit, checked, nearest_only)
        if complete or nearest_only is not None:
            return found
    return _nearest_exactly(store, vectors, query, filters, limit, checked, nearest_only)


def _nearest_by_ann(
    store: CatalogStore,
    vectors: VectorMatrix,
    ann: vector_index.AnnIndex,
    query: np.ndarray,
    filters: SearchFilters,
    limit: int,
    checked: dict[int, bool],
    nearest_only: int | None = None,
) -> tuple[list[tuple[int, float]], bool]:
    """The index's candidates, re-scored exactly, keeping those passing the filters; asks for x8
    more until `limit` pass. (found, True) once they do; (what passed, False) when that would
    take more than ANN_MAX_CANDIDATES (or ANN_MAX_FRACTION of the matrix, or `nearest_only`): the
    caller then scans exactly, so a selective filter still gets its true nearest rows."""
    total = vectors.ids.size
    bound = min(ANN_MAX_CANDIDATES, int(total * ANN_MAX_FRACTION))
    if nearest_only is not None:
        bound = min(nearest_only, total)
    count = max(4 * limit, vector_index.EXPANSION_SEARCH)
    found: list[tuple[int, float]] = []
    while count <= bound:
        rows = vector_index.candidate_rows(vectors, ann, query, count)
        similarities = vectors.matrix[rows] @ query
        order = np.argsort(-similarities, kind="stable")
        rows, similarities = rows[order], similarities[order]
        ids = [int(i) for i in vectors.ids[rows]]
        _check(store, ids, filters, checked)
        found = [(i, float(s)) for i, s in zip(ids, similarities, strict=True) if checked[i]]
        if len(found) >= limit:
            return found[:limit], True
        count *= 8
    return found, False


def _nearest_exactly(
    store: CatalogStore,
    vectors: VectorMatrix,
    query: np.ndarray,
    filters: SearchFilters,
    limit: int,
    checked: dict[int, bool] | None = None,
    nearest_only: int | None = None,
) -> list[tuple[int, float]]:
    """The exact top of the matrix, keeping the rows that pass the filters, in windows that grow
    x8 until `limit` pass or the matrix (or its `nearest_only` nearest rows) ends; ids in
    `checked` are not checked again."""
    checked = {} if checked is None else checked
    similarities = vectors.matrix @ query
    total = similarities.shape[0] if nearest_only is None else min(similarities.shape[0], nearest_only)
    found: list[tuple[int, float]] = []
    start, window = 0, max(4 * limit, 256)
    order = None
    while start < total and len(found) < limit:
        end = min(total, start + window)
        if order is None or end > order.shape[0]:
            if end >= similarities.shape[0]:
                order = np.argsort(-similarities, kind="stable")
            else:
                top = np.argpartition(-similarities, end - 1)[:end]
                order = top[np.argsort(-similarities[top], kind="stable")]
        chunk = order[start:end]
        ids = [int(i) for i in vectors.ids[chunk]]
        _check(store, ids, filters, checked)
        found += [(i, float(similarities[row])) for i, row in zip(ids, chunk, strict=True) if checked[i]]
        start, window = end, window * 8
    return found[:limit]


def _check(store: CatalogStore, ids: list[int], filters: SearchFilters, checked: dict[int, bool]) -> None:
    """Record in `checked` whether each of `ids` passes the filters, asking SQL about new ones only."""
    if filters == SearchFilters():
        # Nothing to check but "active": the caller reads hit rows of active datasets only, and
        # deactivated rows' vectors go with the next embedding run (a 400-id query saved per search).
        checked.update((i, True) for i in ids)
        return
    unchecked = [i for i in ids if i not in checked]
    if unchecked:
        allowed = ids_passing_filters(store, unchecked, filters)
        checked.update((i, i in allowed) for i in unchecked)
