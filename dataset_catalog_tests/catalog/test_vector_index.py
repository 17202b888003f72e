"""SQLite's ANN index (catalog/vector_index.py): the same neighbours as the exact scan, filters
that still find their true nearest rows, and an index file saved, reused and replaced."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from dataset_catalog.catalog import CatalogStore, vector_index, vector_matrix
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.catalog.vector_store import EmbeddingRow, nearest_datasets, write_embeddings

MODEL = "test/clustered-32d"
N, DIM, CLUSTERS = 4000, 32, 40


@pytest.fixture(autouse=True)
def _small_threshold(monkeypatch):
    monkeypatch.setattr(vector_index, "ANN_MIN_VECTORS", 1000)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


def _clustered(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    vectors = centers[rng.integers(0, CLUSTERS, n)] + 0.6 * rng.standard_normal((n, DIM)).astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _fill(store: CatalogStore, n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n datasets (every 10th from kaggle, every 97th MIT-licensed) with clustered vectors;
    returns (ids, vectors) row for row."""
    rows = [
        {
            "source": "kaggle" if i % 10 == 0 else "huggingface",
            "external_id": f"u/d{i}",
            "title": f"D{i}",
            "license": "mit" if i % 97 == 0 else "other",
        }
        for i in range(n)
    ]
    store.upsert_datasets(rows)
    id_of = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
    ids = np.array([id_of[f"u/d{i}"] for i in range(n)], dtype=np.int64)
    vectors = _clustered(n, seed)
    _write(store, ids, vectors)
    return ids, vectors


def _write(store, ids, vectors) -> None:
    write_embeddings(store, MODEL, [EmbeddingRow(int(i), "h", v) for i, v in zip(ids, vectors, strict=True)])


def _queries(count: int = 50) -> np.ndarray:
    return _clustered(count, seed=99)


def _exact(ids, vectors, query, k, keep=None) -> list[int]:
    order = np.argsort(-(vectors @ query), kind="stable")
    ranked = [int(ids[i]) for i in order if keep is None or keep[i]]
    return ranked[:k]


def _recall(store, ids, vectors, filters=None, keep=None, k=10) -> float:
    filters = filters or SearchFilters()
    hits = []
    for q in _queries():
        got = [i for i, _ in nearest_datasets(store, MODEL, q, filters, k)]
        want = _exact(ids, vectors, q, k, keep)
        assert len(got) == len(want)
        hits.append(len(set(got) & set(want)) / len(want))
    return float(np.mean(hits))


def _ann_calls(monkeypatch) -> list[int]:
    calls = []
    real = vector_index.candidate_rows

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(vector_index, "candidate_rows", counting)
    return calls


def test_ann_returns_the_exact_top_10_with_exact_similarities(sqlite_url, monkeypatch):
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        report = vector_matrix.prepare_vectors(store, MODEL)
        assert (report["search"], report["index"], report["vectors"], report["dimension"]) == ("ann", "built", N, DIM)
        calls = _ann_calls(monkeypatch)
        assert _recall(store, ids, vectors) >= 0.95
        assert len(calls) == len(_queries())  # answered by the index, not by the exact scan
        q = _queries()[0]
        by_id = dict(zip(ids.tolist(), vectors, strict=True))
        found = nearest_datasets(store, MODEL, q, SearchFilters(), 10)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        for dataset_id, similarity in found:
            assert similarity == pytest.approx(float(by_id[dataset_id] @ q), abs=1e-5)


def test_small_catalogs_stay_exact_and_build_nothing(sqlite_url, monkeypatch, tmp_path):
    monkeypatch.setattr(vector_index, "ANN_MIN_VECTORS", 50_000)
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store, n=500)
        report = vector_matrix.prepare_vectors(store, MODEL)
        assert (report["search"], report["index"], report["index_path"]) == ("exact", "exact", None)
        assert _recall(store, ids, vectors) == 1.0
    assert not (tmp_path / "catalog.sqlite3.vectors").exists()


def test_filters_return_the_true_nearest_passing_rows(sqlite_url, monkeypatch):
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        vector_matrix.prepare_vectors(store, MODEL)
        kaggle = np.arange(N) % 10 == 0
        monkeypatch.setattr(vector_matrix, "ANN_MAX_FRACTION", 1.0)  # let the index serve the 1-in-10 filter
        calls = _ann_calls(monkeypatch)
        assert _recall(store, ids, vectors, SearchFilters(source="kaggle"), kaggle) >= 0.95
        assert calls
        # 1 row in 97 passes: the index's candidates run out and the exact scan answers, exactly.
        monkeypatch.setattr(vector_matrix, "ANN_MAX_FRACTION", 0.1)
        mit = np.arange(N) % 97 == 0
        assert _recall(store, ids, vectors, SearchFilters(license="mit"), mit) == 1.0
        everything = nearest_datasets(store, MODEL, _queries()[0], SearchFilters(license="mit"), 1000)
        assert len(everything) == int(mit.sum())  # never fewer than exist


def test_index_file_is_saved_reused_and_replaced_with_the_generation(sqlite_url, tmp_path):
    folder = tmp_path / "catalog.sqlite3.vectors"
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        first = vector_matrix.prepare_vectors(store, MODEL)
        path = vector_index.index_path(store, MODEL, vector_matrix.current_generation(store))
    assert first["index"] == "built" and first["index_path"] == str(path)
    assert sorted(folder.glob("*.usearch")) == [path]
    mtime, builds = path.stat().st_mtime_ns, vector_index.BUILDS

    with CatalogStore(sqlite_url) as reopened:  # a later process: loads the file, builds nothing
        second = vector_matrix.prepare_vectors(reopened, MODEL)
        assert (second["search"], second["index"], second["index_path"]) == ("ann", "loaded", str(path))
        assert builds == vector_index.BUILDS and path.stat().st_mtime_ns == mtime
        assert _recall(reopened, ids, vectors) >= 0.95

        moved = _clustered(200, seed=7)  # new vectors for 200 rows: a new generation
        vectors[:200] = moved
        _write(reopened, ids[:200], moved)
        third = vector_matrix.prepare_vectors(reopened, MODEL)
        new_path = vector_index.index_path(reopened, MODEL, vector_matrix.current_generation(reopened))
        assert (third["index"], third["index_path"]) == ("built", str(new_path))
        assert new_path != path and sorted(folder.glob("*.usearch")) == [new_path]  # the old generation's file is gone
        assert builds + 1 == vector_index.BUILDS
        assert nearest_datasets(reopened, MODEL, moved[0], SearchFilters(), 1)[0][0] == int(ids[0])
        assert _recall(reopened, ids, vectors) >= 0.95


def test_after_a_write_queries_scan_exactly_while_the_index_builds_in_the_background(sqlite_url, tmp_path):
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        vector_matrix.prepare_vectors(store, MODEL)
        moved = _clustered(100, seed=8)
        vectors[:100] = moved
        _write(store, ids[:100], moved)
        release = threading.Event()
        real_build = vector_index.build_index

        def slow_build(*args, **kwargs):
            release.wait(30)
            return real_build(*args, **kwargs)

        vector_index.build_index, saved = slow_build, vector_index.build_index
        try:
            assert _recall(store, ids, vectors) == 1.0  # exact answers over the new vectors meanwhile
            current = store.vector_matrices[MODEL]
            assert current.ann is None and current.build_thread is not None
            thread = current.build_thread
            release.set()
            thread.join(60)
        finally:
            vector_index.build_index = saved
        assert current.ann is not None and current.ann.path is not None and current.ann.path.exists()
        assert current.build_thread is None
        assert _recall(store, ids, vectors) >= 0.95


def test_in_memory_database_builds_in_memory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with CatalogStore("sqlite://", allow_in_memory=True) as store:
        ids, vectors = _fill(store)
        report = vector_matrix.prepare_vectors(store, MODEL)
        assert (report["search"], report["index"], report["index_path"]) == ("ann", "built", None)
        assert _recall(store, ids, vectors) >= 0.95
    assert list(tmp_path.iterdir()) == []


def test_concurrent_queries_agree_with_sequential_ones(sqlite_url):
    with CatalogStore(sqlite_url) as store:
        _fill(store)
        vector_matrix.prepare_vectors(store, MODEL)
        queries = _queries()
        expected = [nearest_datasets(store, MODEL, q, SearchFilters(), 10) for q in queries]
        results: dict[int, list] = {}

        def worker(offset: int) -> None:
            for j in range(offset, len(queries), 4):
                results[j] = nearest_datasets(store, MODEL, queries[j], SearchFilters(), 10)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [results[j] for j in range(len(queries))] == expected


def test_matrix_file_is_saved_memory_mapped_by_later_processes_and_replaced(sqlite_url, tmp_path):
    from dataset_catalog.catalog import vector_file

    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        vector_matrix.prepare_vectors(store, MODEL)
        files = vector_file.matrix_paths(store, MODEL, vector_matrix.current_generation(store))
    assert all(p.exists() for p in files.values())

    with CatalogStore(sqlite_url) as reopened:  # a later process maps the file instead of reading rows
        generation = vector_matrix.current_generation(reopened)
        connect = reopened.engine.connect
        reopened.engine.connect = lambda *a, **k: pytest.fail("the vectors were read from the database again")
        try:
            matrix = vector_matrix.load_vector_matrix(reopened, MODEL, generation)
        finally:
            reopened.engine.connect = connect
        assert isinstance(matrix.matrix, np.memmap) and np.array_equal(matrix.ids, ids)
        assert np.allclose(matrix.matrix, vectors)
        _write(reopened, ids[:10], _clustered(10, seed=3))  # a new generation: new files, the old ones deleted
        vector_matrix.prepare_vectors(reopened, MODEL)
        new_files = vector_file.matrix_paths(reopened, MODEL, vector_matrix.current_generation(reopened))
    folder = tmp_path / "catalog.sqlite3.vectors"
    assert sorted(folder.glob("*.npy")) == sorted(new_files.values()) and not any(p.exists() for p in files.values())


@pytest.mark.parametrize("with_index", [True, False])
def test_nearest_only_looks_for_filtered_rows_among_the_nearest_rows_only(sqlite_url, monkeypatch, with_index):
    """A filter read from the query's words is looked for among the rows nearest to the query: a value
    carried only far away, or by nothing, costs a bounded search instead of a scan of every row."""
    if not with_index:
        monkeypatch.setattr(vector_index, "ANN_MIN_VECTORS", 10**9)
    with CatalogStore(sqlite_url) as store:
        ids, vectors = _fill(store)
        query = _queries(1)[0]
        order = ids[np.argsort(-(vectors @ query), kind="stable")]
        mit = SearchFilters(license="mit")  # every 97th row: ~41 of 4000
        exact = nearest_datasets(store, MODEL, query, mit, 20)
        assert len(exact) == 20  # without a bound: the true 20 nearest MIT rows, however far
        bounded = nearest_datasets(store, MODEL, query, mit, 20, nearest_only=400)
        near = set(int(i) for i in order[:500])  # the ANN index's 400 are about the exact 400
        assert 0 < len(bounded) < 20 and {i for i, _ in bounded} <= near
        assert [i for i, _ in bounded] == [i for i, _ in exact[: len(bounded)]]
        nobody = SearchFilters(license="apache-2.0")
        assert nearest_datasets(store, MODEL, query, nobody, 20, nearest_only=400) == []
