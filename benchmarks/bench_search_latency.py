"""Search latency over N synthetic datasets, end to end (query embedding included), and
recall@10 of the semantic candidates vs exact cosine.

    PYTHONPATH=. python benchmarks/bench_search_latency.py [N=500000] [--pg] [--queries 200]

With BENCH_PG_DATA=/some/dir and --pg, the PostgreSQL database is kept there and reused by
later runs (loading 500k rows and building HNSW takes ~10 minutes on 2 cores).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import nullcontext

import numpy as np
from common import Timer, load_catalog, load_conditions, percentiles, pg_database, reused_pg_database, synthetic_matrix

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from dataset_catalog.catalog import CatalogStore  # noqa: E402
from dataset_catalog.catalog.keyword_index import keyword_candidates  # noqa: E402
from dataset_catalog.catalog.search_queries import SearchFilters  # noqa: E402
from dataset_catalog.catalog.vector_matrix import vector_matrix  # noqa: E402
from dataset_catalog.catalog.vector_store import nearest_datasets  # noqa: E402
from dataset_catalog.embeddings.encoder import encode_query, load_encoder  # noqa: E402
from dataset_catalog.embeddings.search import query_tokens, search_catalog  # noqa: E402
from synthetic import make_queries  # noqa: E402


def main() -> None:
    args = sys.argv[1:]
    n = int(next((a for a in args if a.isdigit()), 500_000))
    n_queries = int(args[args.index("--queries") + 1]) if "--queries" in args else 200
    use_pg = "--pg" in args
    encoder = load_encoder()
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
            with Timer() as t:
                vector_matrix(store, encoder.name)
            print(f"  first-query load of the in-memory matrix ({n}x{encoder.dimension} float32): {t.seconds:.1f} s")
        for q in queries[:20]:  # warm-up: caches, index pages
            search_catalog(q, store=store, encoder=encoder)
        print(f"measuring {n_queries} queries; {load_conditions()}")
        total, embed, semantic, keyword = [], [], [], []
        for q in queries[20:]:
            t0 = time.perf_counter()
            search_catalog(q, store=store, encoder=encoder, limit=10)
            total.append((time.perf_counter() - t0) * 1000)
        for q in queries[20:80]:  # where the time goes, on a subset
            t0 = time.perf_counter()
            qv = encode_query(encoder, q)
            t1 = time.perf_counter()
            nearest_datasets(store, encoder.name, qv, SearchFilters(), 50)
            t2 = time.perf_counter()
            keyword_candidates(store, query_tokens(q), SearchFilters(), 50)
            t3 = time.perf_counter()
            embed.append((t1 - t0) * 1000)
            semantic.append((t2 - t1) * 1000)
            keyword.append((t3 - t2) * 1000)
        print(f"END TO END search_catalog (limit 10): {percentiles(total)}  [target p50 <= 50, p95 <= 150]")
        print(f"  query embedding: {percentiles(embed)}")
        print(f"  semantic top-50: {percentiles(semantic)}")
        print(f"  keyword top-50:  {percentiles(keyword)}")
        filtered = []
        for q in queries[20:60]:
            t0 = time.perf_counter()
            search_catalog(q, store=store, encoder=encoder, filters=SearchFilters(source="kaggle", license="mit", min_downloads=20))
            filtered.append((time.perf_counter() - t0) * 1000)
        print(f"  filtered (kaggle, mit, >=20 downloads): {percentiles(filtered)}")
        recalls, recalls_direct = [], []
        for q in queries[20:120]:
            qv = encode_query(encoder, q)
            exact = set(np.argsort(-(matrix @ qv))[:10] + 1)
            got = [i for i, _ in nearest_datasets(store, encoder.name, qv, SearchFilters(), 50)[:10]]
            got10 = [i for i, _ in nearest_datasets(store, encoder.name, qv, SearchFilters(), 10)]
            recalls.append(len(exact & set(got)) / 10)
            recalls_direct.append(len(exact & set(got10)) / 10)
        print(f"recall@10 vs exact cosine (100 queries): {np.mean(recalls):.4f} as search uses it (top 10 of 50 candidates), "
              f"{np.mean(recalls_direct):.4f} asking for 10 directly [target >= 0.95]; {load_conditions()}")  # fmt: skip


if __name__ == "__main__":
    main()
