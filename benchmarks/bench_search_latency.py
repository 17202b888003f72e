"""Search latency over N synthetic datasets, end to end (query embedding included), and
recall@10 of the semantic candidates vs exact cosine.

On SQLite it also times the HNSW index (catalog/vector_index.py): its build, its load from the
saved file by a freshly opened store (as a restarted service would), and semantic top-50 and
end-to-end latency with the index vs the exact numpy scan over the same matrix.

    PYTHONPATH=. python benchmarks/bench_search_latency.py [N=500000] [--pg] [--queries 200]
    PYTHONPATH=. python benchmarks/bench_search_latency.py --catalog PATH [--queries 100]

With --catalog, an existing SQLite catalog (a clustered one: bench_clusters.py --scale-catalog
--keep PATH) is searched as it is, and only end-to-end latency with duplicate folding on
(the default) vs off is measured, the two alternating query by query so load changes hit both;
on the synthetic queries and on queries naming clustered datasets (their titles).

With BENCH_PG_DATA=/some/dir and --pg, the PostgreSQL database is kept there and reused by
later runs (loading 500k rows and building HNSW takes ~10 minutes on 2 cores).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
from common import load_catalog, load_conditions, percentiles, pg_database, reused_pg_database, synthetic_matrix

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic import make_queries

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.keyword_index import keyword_candidates
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.catalog.vector_matrix import _nearest_exactly, prepare_vectors, vector_matrix
from dataset_catalog.catalog.vector_store import nearest_datasets
from dataset_catalog.embeddings.encoder import encode_query, load_encoder, load_serving_query_encoder
from dataset_catalog.search.finder import SearchRequest, find
from dataset_catalog.search.ranking import query_tokens


def search(store, query_encoder, query: str, filters: SearchFilters | None = None, fold: bool = True):
    """One search as the CLI and the service run it (a first page of 10, with facets)."""
    return find(store, SearchRequest(query, filters or SearchFilters(), limit=10, fold=fold), encoder=query_encoder)


def _shown(page) -> set[tuple[str, str]]:
    return {(h.source, h.external_id) for h in page.hits}


def fold_latency(path: str, n_queries: int) -> None:
    """Folded vs unfolded end-to-end latency on an existing (clustered) SQLite catalog."""
    import sqlalchemy as sa

    from dataset_catalog.catalog.schema import dataset_clusters, datasets
    from dataset_catalog.embeddings.encoder import DEFAULT_MODEL

    query_encoder = load_serving_query_encoder()
    store = CatalogStore(f"sqlite:///{path}")
    prepared = prepare_vectors(store, DEFAULT_MODEL)
    print(f"{path}: {prepared['vectors']} vectors, index {prepared['index']} in {prepared['index_seconds']:.1f} s")
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(datasets)).scalar_one()
        clustered = conn.execute(sa.select(sa.func.count()).select_from(dataset_clusters)).scalar_one()
        titles = list(
            conn.execute(
                sa.select(datasets.c.title)
                .join(dataset_clusters, dataset_clusters.c.dataset_id == datasets.c.id)
                .where(dataset_clusters.c.cluster_id == datasets.c.id)  # one title per cluster
                .order_by(datasets.c.id)
                .limit(n_queries // 2)
            ).scalars()
        )
    print(f"{rows} rows, {clustered} in clusters of several rows")
    synthetic = make_queries(n_queries + 20)
    for q in synthetic[:20]:  # warm-up: caches, index pages, both paths
        search(store, query_encoder, q, fold=True)
        search(store, query_encoder, q, fold=False)
    for label, queries in (("synthetic queries", synthetic[20:]), ("titles of clustered datasets", titles)):
        times: dict[bool, list[float]] = {True: [], False: []}
        folded_away = 0
        print(f"measuring {len(queries)} {label}, folded and unfolded alternately; {load_conditions()}")
        for i, q in enumerate(queries):
            pages = {}
            for fold in (True, False) if i % 2 == 0 else (False, True):
                t0 = time.perf_counter()
                pages[fold] = search(store, query_encoder, q, fold=fold)
                times[fold].append((time.perf_counter() - t0) * 1000)
            folded_away += len(_shown(pages[False]) - _shown(pages[True]))
        print(f"  FOLDED   (fold=True, the default): {percentiles(times[True])}  [target p50 <= 50, p95 <= 150]")
        print(f"  UNFOLDED (fold=False):             {percentiles(times[False])}")
        print(f"  first-page hits of the unfolded lists not on the folded ones: {folded_away}; {load_conditions()}")
    store.close()


def main() -> None:
    args = sys.argv[1:]
    n = int(next((a for a in args if a.isdigit()), 500_000))
    n_queries = int(args[args.index("--queries") + 1]) if "--queries" in args else 200
    if "--catalog" in args:
        fold_latency(args[args.index("--catalog") + 1], n_queries)
        return
    use_pg = "--pg" in args
    encoder = load_encoder()  # embeds the synthetic catalog
    query_encoder = load_serving_query_encoder()  # encodes queries, as the service and the CLI do (ONNX)
    queries = make_queries(n_queries + 20)
    reuse_dir = os.environ.get("BENCH_PG_DATA") if use_pg else None
    if reuse_dir:
        database = reused_pg_database(reuse_dir, f"bench{n}")
    else:
        database = pg_database("search") if use_pg else nullcontext((None, False))
    with database as db, tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        pg_url, loaded = db if isinstance(db, tuple) else (db, False)
        store = CatalogStore(pg_url or f"sqlite:///{tmp}/c.sqlite3")
        if loaded:
            print(f"{store.dialect}: reusing the {n}-row database in {reuse_dir}; {load_conditions()}")
            matrix = synthetic_matrix(n, encoder)
        else:
            print(f"{store.dialect}: loading {n} synthetic datasets; {load_conditions()}")
            matrix = load_catalog(store, n, encoder)
        if store.dialect == "sqlite":
            built = prepare_vectors(store, encoder.name)
            print(
                f"  load of the in-memory matrix ({n}x{encoder.dimension} float32): {built['vectors_seconds']:.1f} s; "
                f"index: {built['index']} ({built['search']}) in {built['index_seconds']:.1f} s"
            )
            store.close()
            store = CatalogStore(f"sqlite:///{tmp}/c.sqlite3")  # a fresh process's store: loads the saved index
            loaded = prepare_vectors(store, encoder.name)
            path = loaded["index_path"]
            size = f"{os.path.getsize(path) / 1e6:.0f} MB file" if path else "no file"
            ann = store.vector_matrices[encoder.name].ann
            memory = f", {ann.index.memory_usage / 1e6:.0f} MB reported by usearch" if ann else ""
            print(
                f"  fresh store: matrix loaded in {loaded['vectors_seconds']:.1f} s, index {loaded['index']} "
                f"in {loaded['index_seconds']:.3f} s ({size}{memory})"
            )
        for q in queries[:20]:  # warm-up: caches, index pages
            search(store, query_encoder, q)
        print(f"measuring {n_queries} queries; {load_conditions()}")
        total, embed, semantic, keyword = [], [], [], []
        for q in queries[20:]:
            t0 = time.perf_counter()
            search(store, query_encoder, q)
            total.append((time.perf_counter() - t0) * 1000)
        for q in queries[20:80]:  # where the time goes, on a subset
            t0 = time.perf_counter()
            qv = encode_query(query_encoder, q)
            t1 = time.perf_counter()
            nearest_datasets(store, encoder.name, qv, SearchFilters(), 50)
            t2 = time.perf_counter()
            keyword_candidates(store, query_tokens(q), SearchFilters(), 50)
            t3 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            semantic.append((t2 - t1) * 1000)
            keyword.append((t3 - t2) * 1000)
        print(f"END TO END find (first page of 10): {percentiles(total)}  [target p50 <= 50, p95 <= 150]")
        print(f"  query embedding: {percentiles(embed)}")
        print(f"  semantic top-50: {percentiles(semantic)}")
        print(f"  keyword top-50:  {percentiles(keyword)}")
        if store.dialect == "sqlite":
            vectors = vector_matrix(store, encoder.name)
            exact_semantic = []
            for q in queries[20:80]:
                qv = encode_query(query_encoder, q)
                t0 = time.perf_counter()
                _nearest_exactly(store, vectors, qv, SearchFilters(), 50)
                exact_semantic.append((time.perf_counter() - t0) * 1000)
            print(f"  semantic top-50, exact numpy scan (before the index): {percentiles(exact_semantic)}")
            ann, vectors.ann = vectors.ann, None  # end to end over the exact scan, for comparison
            exact_total = []
            for q in queries[20:]:
                t0 = time.perf_counter()
                search(store, query_encoder, q)
                exact_total.append((time.perf_counter() - t0) * 1000)
            print(f"END TO END with the exact scan: {percentiles(exact_total)}")
            concurrent_exact = _concurrent(store, query_encoder, queries[20:])
            vectors.ann = ann
            print(f"END TO END, 4 concurrent clients, exact scan: {percentiles(concurrent_exact)}")
        print(
            f"END TO END, 4 concurrent clients: {percentiles(_concurrent(store, query_encoder, queries[20:]))}  [target p50 <= 30]"
        )
        filtered = []
        for q in queries[20:60]:
            t0 = time.perf_counter()
            search(store, query_encoder, q, SearchFilters(source="kaggle", license="mit", min_downloads=20))
            filtered.append((time.perf_counter() - t0) * 1000)
        print(f"  filtered (kaggle, mit, >=20 downloads): {percentiles(filtered)}")
        recalls, recalls_direct = [], []
        for q in queries[20:120]:
            qv = encode_query(query_encoder, q)
            exact = set(np.argsort(-(matrix @ qv))[:10] + 1)
            got = [i for i, _ in nearest_datasets(store, encoder.name, qv, SearchFilters(), 50)[:10]]
            got10 = [i for i, _ in nearest_datasets(store, encoder.name, qv, SearchFilters(), 10)]
            recalls.append(len(exact & set(got)) / 10)
            recalls_direct.append(len(exact & set(got10)) / 10)
        print(
            f"recall@10 vs exact cosine (100 queries): {np.mean(recalls):.4f} as search uses it (top 10 of 50 candidates), "
            f"{np.mean(recalls_direct):.4f} asking for 10 directly [target >= 0.95]; {load_conditions()}"
        )
        kaggle = np.arange(n) % 3 == 0  # synthetic.make_row: every third row comes from kaggle
        kaggle_ids = np.flatnonzero(kaggle) + 1
        filtered_recalls = []
        for q in queries[20:70]:
            qv = encode_query(query_encoder, q)
            exact = set(kaggle_ids[np.argsort(-(matrix[kaggle] @ qv))[:10]])
            got = [i for i, _ in nearest_datasets(store, encoder.name, qv, SearchFilters(source="kaggle"), 10)]
            filtered_recalls.append(len(exact & set(got)) / 10)
        print(f"recall@10 with a filter (source=kaggle, 1/3 of rows; 50 queries): {np.mean(filtered_recalls):.4f}")
        store.close()


def _concurrent(store, query_encoder, queries: list[str], clients: int = 4) -> list[float]:
    """Per-query latency with `clients` threads searching at once (a service's worker threads)."""

    def one(q: str) -> float:
        t0 = time.perf_counter()
        search(store, query_encoder, q)
        return (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, queries))


if __name__ == "__main__":
    main()
