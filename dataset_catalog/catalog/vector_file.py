"""A model's vector matrix as memory-mapped files beside the SQLite catalog.

Reading 500k vectors out of SQLite rows takes ~6 s (100k: ~1 s), which every fresh process (the
CLI above all) would pay before its first query. The matrix is written once per embeddings
generation to `<catalog file>.vectors/<model>-<generation>.{ids,vectors}.npy` (atomically,
beside the ANN index of catalog/vector_index.py) and later processes map it in milliseconds.
The generation token in the name says which stored vectors the files hold; other generations'
files are deleted when new ones are written. In-memory databases keep nothing on disk.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.vector_index import index_folder, model_prefix

log = logging.getLogger(__name__)
_PARTS = ("ids", "vectors")
_lock = threading.Lock()


def matrix_paths(store: CatalogStore, model: str, generation: str | None) -> dict[str, Path] | None:
    folder = index_folder(store)
    if folder is None or not generation:
        return None
    stem = f"{model_prefix(model)}{re.sub(r'[^A-Za-z0-9]', '', generation)}"
    return {part: folder / f"{stem}.{part}.npy" for part in _PARTS}


def load_matrix_file(store: CatalogStore, model: str, generation: str | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, matrix) memory-mapped from this generation's files, or None if there are none (or
    they are unreadable or do not fit together)."""
    paths = matrix_paths(store, model, generation)
    if paths is None or not all(p.exists() for p in paths.values()):
        return None
    try:
        ids = np.load(paths["ids"], mmap_mode="r")
        matrix = np.load(paths["vectors"], mmap_mode="r")
    except (OSError, ValueError) as exc:
        log.warning("ignoring the unreadable vector files %s (%s)", paths["vectors"], exc)
        return None
    if ids.ndim != 1 or matrix.ndim != 2 or ids.shape[0] != matrix.shape[0] or matrix.dtype != np.float32:
        log.warning("ignoring the vector files %s: ids and vectors do not fit together", paths["vectors"])
        return None
    return ids, matrix


def save_matrix_file(
    store: CatalogStore, model: str, generation: str | None, ids: np.ndarray, matrix: np.ndarray
) -> None:
    """Write this generation's files (temp file + rename, ids last so a half-written pair is never
    read), then delete this model's files of other generations. A folder that cannot be written is
    logged and skipped: later processes read the rows again."""
    paths = matrix_paths(store, model, generation)
    if paths is None:
        return
    with _lock:
        try:
            paths["ids"].parent.mkdir(parents=True, exist_ok=True)
            for part, values in (("vectors", matrix), ("ids", ids)):
                temp = paths[part].with_name(f"{paths[part].name}.{os.getpid()}.{threading.get_ident()}.tmp")
                with open(temp, "wb") as out:
                    np.save(out, np.ascontiguousarray(values))
                os.replace(temp, paths[part])
        except OSError as exc:
            log.warning(
                "could not save the vector matrix to %s (%s); later processes will read the rows", paths["vectors"], exc
            )
            return
        keep = set(paths.values())
        prefix = model_prefix(model)
        for old in [*paths["ids"].parent.glob(f"{prefix}*.npy"), *paths["ids"].parent.glob(f"{prefix}*.npy.*.tmp")]:
            try:
                if old not in keep and (old.suffix != ".tmp" or time.time() - old.stat().st_mtime > 24 * 3600):
                    old.unlink(missing_ok=True)
            except OSError:
                pass
