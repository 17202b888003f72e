"""SQLite's approximate nearest neighbours: a usearch HNSW index over a model's vector matrix.

Why: the exact numpy scan (catalog/vector_matrix.py) reads every vector on every query, ~43 ms
at 500k x 384 on 2 cores, too slow for a search service with several clients. An HNSW graph
answers in about a millisecond, but:
- building it is slow (~3 min for 500k on 2 cores), so the built index is saved beside the
  catalog file (`<catalog file>.vectors/<model>-<generation>.usearch`, written atomically) and
  memory-mapped by later processes in well under a second; the `embedding_generation` token in
  the name says which stored vectors it holds, and other generations' files are deleted;
- below ANN_MIN_VECTORS rows the exact scan costs a few ms and needs no build, so it stays;
- vectors are stored in the graph as float16 (half the memory and disk of float32) and every
  candidate is re-scored exactly against the float32 matrix, so rankings and similarities are
  exact cosines, only the set of candidates is approximate (recall@10 >= 0.95, measured by
  benchmarks/bench_search_latency.py).
In-memory databases (tests) build in memory and save nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dataset_catalog.catalog.store import CatalogStore

if TYPE_CHECKING:
    from usearch.index import Index

    from dataset_catalog.catalog.vector_matrix import VectorMatrix

log = logging.getLogger(__name__)

# A sweep over the benchmark's clustered 384-d vectors at 500k (f16, candidates re-scored exactly;
# benchmarks/bench_search_latency.py checks the chosen values): connectivity 16 / expansion_add 128 needs expansion_search 800 for
# recall@10 0.98 (~3.9 ms a query); connectivity 32 reaches 0.98 at 256 (~1.3 ms), 0.99 at 400, for a
# ~30% longer build (~160 s on 2 cores) and ~20% more memory. f16 storage halves the vectors'
# memory and disk; since candidates are re-scored in float32 it only bears on which are found.
ANN_MIN_VECTORS = 50_000  # fewer vectors: the exact scan (<= ~5 ms a query), no index to build
CONNECTIVITY = 32
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256
DTYPE = "f16"
FILE_SUFFIX = ".usearch"
_files_lock = threading.Lock()  # saving and deleting index files, between this process's threads


@dataclass(frozen=True)
class AnnIndex:
    index: Index
    path: Path | None  # the file it was saved to or memory-mapped from; None: in memory only
    sorted_ids: np.ndarray  # the matrix's ids, ascending: keys are dataset ids, found by bisection
    rows_by_key: np.ndarray | None  # matrix row of each of sorted_ids; None when the ids are ascending


def candidate_rows(vectors: VectorMatrix, ann: AnnIndex, query: np.ndarray, count: int) -> np.ndarray:
    """Matrix rows of (about) the `count` nearest vectors, unordered; fewer if the graph has fewer."""
    found = ann.index.search(query, count, threads=1)  # reads are thread-safe; one thread per query
    keys = np.asarray(found.keys[: len(found)], dtype=np.int64)
    at = np.minimum(np.searchsorted(ann.sorted_ids, keys), ann.sorted_ids.size - 1)
    at = at[ann.sorted_ids[at] == keys]
    return at if ann.rows_by_key is None else ann.rows_by_key[at]


def index_path(store: CatalogStore, model: str, generation: str | None) -> Path | None:
    """Where the index of these vectors is kept: beside the SQLite file; None in memory or on PostgreSQL."""
    folder = index_folder(store)
    if folder is None or not generation:
        return None
    return folder / f"{model_prefix(model)}{re.sub(r'[^A-Za-z0-9]', '', generation)}{FILE_SUFFIX}"


def ensure_index(
    store: CatalogStore, model: str, vectors: VectorMatrix, *, background: bool, build: bool = True
) -> str:
    """Give `vectors` its ANN index: loaded from its file, else built (in a background thread if
    `background`, queries meanwhile scanning exactly; not at all unless `build`). Returns what
    happened: "exact" (too few vectors for an index, or none saved and `build` off), "ready",
    "loaded", "built", "building" (in the background) or "failed" (logged; queries scan exactly)."""
    if vectors.ids.size < ANN_MIN_VECTORS:
        return "exact"
    if vectors.ann is not None:
        return "ready"
    building = vectors.build_thread
    if building is not None:
        if background:
            return "building"
        building.join()
        return "built" if vectors.ann is not None else "failed"
    path = index_path(store, model, vectors.generation)
    loaded = _load(path, vectors) if path is not None and path.exists() else None
    if loaded is not None:
        vectors.ann = loaded
        return "loaded"
    if not build:
        return "exact"
    if not background:
        _build_and_keep(store, model, vectors, path, threads=os.cpu_count() or 1)
        return "built" if vectors.ann is not None else "failed"
    # While it builds, leave a core to the queries that scan exactly.
    threads = max(1, (os.cpu_count() or 1) - 1)
    thread = threading.Thread(
        target=_build_and_keep, args=(store, model, vectors, path, threads), name=f"ann-build-{model}", daemon=True
    )
    vectors.build_thread = thread
    thread.start()
    return "building"


def build_index(vectors: VectorMatrix, threads: int) -> AnnIndex:
    from usearch.index import Index

    index = Index(
        ndim=vectors.matrix.shape[1],
        metric="cos",
        dtype=DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )
    index.add(vectors.ids.astype(np.uint64), vectors.matrix, threads=threads)
    return AnnIndex(index, None, *_key_lookup(vectors.ids))


BUILDS = 0  # indexes built by this process (tests check that a saved one is reused)


def _build_and_keep(store: CatalogStore, model: str, vectors: VectorMatrix, path: Path | None, threads: int) -> None:
    global BUILDS
    try:
        started = time.perf_counter()
        ann = build_index(vectors, threads)
        BUILDS += 1
        log.info(
            "built the ANN index of %d %s vectors in %.1f s", vectors.ids.size, model, time.perf_counter() - started
        )
        current = store.vector_matrices.get(model) is vectors
        if path is not None and current:
            ann = AnnIndex(ann.index, _save(ann.index, path, model), ann.sorted_ids, ann.rows_by_key)
        vectors.ann = ann
    except Exception:
        log.exception("building the ANN index of %s failed; its queries scan exactly", model)
    finally:
        vectors.build_thread = None


def _save(index: Index, path: Path, model: str) -> Path | None:
    """Write atomically (temp file + rename), then delete this model's files of other generations."""
    with _files_lock:
        temp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            index.save(str(temp))
            os.replace(temp, path)
        except OSError as exc:  # e.g. a read-only folder: this process keeps the index in memory
            log.warning("could not save the ANN index to %s (%s); later processes will rebuild it", path, exc)
            temp.unlink(missing_ok=True)
            return None
        prefix = model_prefix(model)
        for old in [*path.parent.glob(f"{prefix}*{FILE_SUFFIX}"), *path.parent.glob(f"{prefix}*.tmp")]:
            try:
                # Other generations' files; temp files of killed processes. A process still
                # mapping a deleted file keeps its pages (POSIX).
                if old != path and (old.suffix != ".tmp" or time.time() - old.stat().st_mtime > 24 * 3600):
                    old.unlink(missing_ok=True)
            except OSError:
                pass
    return path


def _load(path: Path, vectors: VectorMatrix) -> AnnIndex | None:
    """The saved index, memory-mapped, if it holds exactly these vectors' ids; else None (rebuilt)."""
    from usearch.index import Index

    try:
        index = Index.restore(str(path), view=True)
    except Exception as exc:  # a truncated or foreign file: rebuild it
        log.warning("ignoring the unreadable ANN index %s (%s)", path, exc)
        return None
    ids = vectors.ids
    probe = ids[np.linspace(0, ids.size - 1, num=min(64, ids.size), dtype=np.int64)].astype(np.uint64)
    if (
        index is None
        or len(index) != ids.size
        or index.ndim != vectors.matrix.shape[1]
        or not np.all(index.contains(probe))
    ):
        log.warning("ignoring the ANN index %s: it does not hold the stored vectors", path)
        return None
    index.expansion_search = EXPANSION_SEARCH
    return AnnIndex(index, path, *_key_lookup(ids))


def _key_lookup(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return ids, None  # SQLite returns them in primary-key order: nothing to sort
    rows = np.argsort(ids, kind="stable")
    return ids[rows], rows


def index_folder(store: CatalogStore) -> Path | None:
    url = store.engine.url
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true)
        if "mode=memory" in database or database.startswith("file::memory:"):
            return None
        database = database[len("file:") :].split("?", 1)[0]
    if database in ("", ":memory:"):
        return None
    return Path(database).expanduser().resolve().parent / f"{Path(database).name}.vectors"


def model_prefix(model: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._]+", "_", model)[:80]
    return f"{readable}-{hashlib.sha256(model.encode()).hexdigest()[:8]}-"
