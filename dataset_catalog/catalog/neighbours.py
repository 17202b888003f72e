"""Nearest stored vectors of stored vectors, many at a time (duplicate candidates), and the cosine
of given pairs: the vector-index counterpart of `vector_store.nearest_datasets`, which answers one
query vector. SQLite searches the in-memory matrix (its HNSW index when it has one, else exactly,
in chunks); PostgreSQL asks pgvector's HNSW index once per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import dataset_embeddings
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.vector_matrix import vector_matrix
from dataset_catalog.catalog.vector_store import (
    dataset_vector,
    nearest_datasets,
    stored_dimension,
    vector_column,
    vector_value,
)

EXACT_CHUNK = 64  # query rows per exact matrix product (64 x 500k floats: 128 MB)
ANN_THREADS = 2


def nearest_neighbours(
    store: CatalogStore, model: str, ids: Sequence[int], count: int
) -> dict[int, list[tuple[int, float]]]:
    """For each of `ids` with a stored vector, about `count` nearest other rows (id, cosine), best first."""
    if not ids or count <= 0 or stored_dimension(store, model) is None:
        return {}
    if store.dialect == "postgresql":
        return _nearest_by_pgvector(store, model, ids, count)
    vectors = vector_matrix(store, model)
    row_of = {int(i): r for r, i in enumerate(vectors.ids)}
    rows = np.asarray([row_of[i] for i in ids if i in row_of], dtype=np.int64)
    if rows.size == 0:
        return {}
    found: dict[int, list[tuple[int, float]]] = {}
    for start in range(0, rows.size, EXACT_CHUNK if vectors.ann is None else 4096):
        chunk = rows[start : start + (EXACT_CHUNK if vectors.ann is None else 4096)]
        queries = vectors.matrix[chunk]
        if vectors.ann is not None:
            keys = np.asarray(vectors.ann.index.search(queries, count + 1, threads=ANN_THREADS).keys, dtype=np.int64)
            for query_row, row_keys in zip(chunk, keys.reshape(len(chunk), -1), strict=True):
                others = [row_of[int(k)] for k in row_keys if int(k) in row_of and row_of[int(k)] != query_row]
                sims = vectors.matrix[others] @ vectors.matrix[query_row] if others else np.empty(0)
                pairs = sorted(zip(others, sims.tolist(), strict=True), key=lambda x: -x[1])[:count]
                found[int(vectors.ids[query_row])] = [(int(vectors.ids[o]), float(s)) for o, s in pairs]
            continue
        sims = queries @ vectors.matrix.T
        sims[np.arange(len(chunk)), chunk] = -2.0  # a row is not its own neighbour
        take = min(count, vectors.ids.size - 1)
        if take <= 0:
            return {}
        top = np.argpartition(-sims, take - 1, axis=1)[:, :take]
        for query_row, row_top, row_sims in zip(chunk, top, sims, strict=True):
            order = row_top[np.argsort(-row_sims[row_top], kind="stable")]
            found[int(vectors.ids[query_row])] = [(int(vectors.ids[o]), float(row_sims[o])) for o in order]
    return found


def _nearest_by_pgvector(store, model, ids, count) -> dict[int, list[tuple[int, float]]]:
    found = {}
    for dataset_id in ids:
        vector = dataset_vector(store, model, dataset_id)
        if vector is not None:
            near = nearest_datasets(store, model, vector, SearchFilters(), count + 1)
            found[dataset_id] = [(i, s) for i, s in near if i != dataset_id][:count]
    return found


def pair_similarities(
    store: CatalogStore, model: str, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], float]:
    """The cosine of each pair's stored vectors; pairs where either has none are left out."""
    pairs = list(pairs)
    if not pairs or stored_dimension(store, model) is None:
        return {}
    wanted = sorted({i for pair in pairs for i in pair})
    e = dataset_embeddings
    vectors: dict[int, np.ndarray] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 2000):
            query = sa.select(e.c.dataset_id, vector_column(store).label("v")).where(
                e.c.model == model, in_list(conn, e.c.dataset_id, wanted[start : start + 2000])
            )
            for dataset_id, value in conn.execute(query):
                vectors[int(dataset_id)] = vector_value(store, value)
    return {(a, b): float(vectors[a] @ vectors[b]) for a, b in pairs if a in vectors and b in vectors}
