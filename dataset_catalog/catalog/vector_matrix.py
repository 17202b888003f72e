"""SQLite's nearest-neighbour search: a model's vectors in memory, scanned exactly with numpy.

SQLite has no vector index, so the store keeps each model's vectors as one float32 matrix
(`store.vector_matrices`), loaded on the first query (~5 s and 770 MB for 500k x 384) and
reloaded when the `embedding_generation` token changes (every write of vectors replaces it).
A scan of 500k x 384 takes ~20 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from dataset_catalog.catalog.schema import EMBEDDINGS_GENERATION_KEY, dataset_embeddings, embedding_generation
from dataset_catalog.catalog.search_queries import SearchFilters, ids_passing_filters
from dataset_catalog.catalog.store import CatalogStore


@dataclass(frozen=True)
class VectorMatrix:
    generation: str | None
    ids: np.ndarray  # int64 dataset ids, one per matrix row
    matrix: np.ndarray  # float32, unit-length rows


def current_generation(store: CatalogStore) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(embedding_generation.c.generation).where(
                embedding_generation.c.name == EMBEDDINGS_GENERATION_KEY
            )
        ).scalar_one_or_none()


def vector_matrix(store: CatalogStore, model: str) -> VectorMatrix:
    """The model's vectors, from the store's memory unless the stored ones changed since."""
    generation = current_generation(store)
    with store.lock:
        cached = store.vector_matrices.get(model)
        if cached is None or cached.generation != generation:
            cached = store.vector_matrices[model] = load_vector_matrix(store, model, generation)
        return cached


def load_vector_matrix(store: CatalogStore, model: str, generation: str | None) -> VectorMatrix:
    """Every vector of `model` (of its first dimension), streamed into one matrix."""
    e = dataset_embeddings
    where = e.c.model == model
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(e).where(where)).scalar_one()
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
    return VectorMatrix(generation, ids[:n], matrix[:n])


def nearest_in_matrix(
    store: CatalogStore, model: str, query_vector: np.ndarray, filters: SearchFilters, limit: int
) -> list[tuple[int, float]]:
    """(dataset id, cosine similarity) best first: the exact top of the matrix, keeping the rows
    that pass the filters, in windows that grow x8 until `limit` pass or the matrix ends."""
    vectors = vector_matrix(store, model)
    if vectors.ids.size == 0:
        return []
    similarities = vectors.matrix @ query_vector.astype(np.float32)
    total = similarities.shape[0]
    found: list[tuple[int, float]] = []
    start, window = 0, max(4 * limit, 256)
    order = None
    while start < total and len(found) < limit:
        end = min(total, start + window)
        if order is None or end > order.shape[0]:
            if end >= total:
                order = np.argsort(-similarities, kind="stable")
            else:
                top = np.argpartition(-similarities, end - 1)[:end]
                order = top[np.argsort(-similarities[top], kind="stable")]
        chunk = order[start:end]
        allowed = ids_passing_filters(store, [int(i) for i in vectors.ids[chunk]], filters)
        found += [(int(vectors.ids[i]), float(similarities[i])) for i in chunk if int(vectors.ids[i]) in allowed]
        start, window = end, window * 8
    return found[:limit]
