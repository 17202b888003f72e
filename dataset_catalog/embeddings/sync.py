"""Keep one current vector per active dataset: embed only rows whose text or model changed.

Each run reads every active row's text columns (paged by id), rebuilds its embedding text and
hash, and compares with what is stored (hash + model name). Changed rows are embedded in
chunks — one `encode` call and one transaction per chunk — so a stopped run keeps its progress
and a chunk sorts its texts by length for little padding, as one big `encode` would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataset_catalog.catalog import CatalogStore, vector_store
from dataset_catalog.catalog.enrichment_log import log_attempts
from dataset_catalog.catalog.schema import EnrichmentResult
from dataset_catalog.embeddings.encoder import Encoder
from dataset_catalog.embeddings.text import build_embedding_text, content_hash
from dataset_catalog.embeddings.units import EmbeddingUnit

logger = logging.getLogger(__name__)
DEFAULT_CHUNK_SIZE = 512
MAX_LOGGED_FAILURES = 20


@dataclass
class EmbedReport:
    model: str
    dimension: int
    embedded: int = 0
    unchanged: int = 0
    failed: int = 0
    removed: int = 0
    deferred: int = 0  # changed rows left for the next run by `limit`
    encode_seconds: float = 0.0
    seconds: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def texts_per_second(self) -> float:
        return self.embedded / self.encode_seconds if self.encode_seconds > 0 else 0.0


@dataclass
class _Pending:
    dataset_id: int
    text: str
    content_hash: str


def _encode_isolating_failures(
    encode: Callable[[Sequence[str]], np.ndarray], batch: list[_Pending]
) -> tuple[list[tuple[_Pending, np.ndarray]], list[tuple[_Pending, str]]]:
    """Encode a chunk; if the chunk fails, split it in halves until the bad rows are isolated."""
    try:
        vectors = np.asarray(encode([p.text for p in batch]), dtype=np.float32)
        if vectors.shape[0] != len(batch):
            raise ValueError(f"model returned {vectors.shape[0]} vectors for {len(batch)} texts")
    except Exception as exc:
        if len(batch) == 1:
            return [], [(batch[0], f"{type(exc).__name__}: {str(exc)[:300]}")]
        mid = len(batch) // 2
        ok1, bad1 = _encode_isolating_failures(encode, batch[:mid])
        ok2, bad2 = _encode_isolating_failures(encode, batch[mid:])
        return ok1 + ok2, bad1 + bad2
    good, bad = [], []
    for pending, vector in zip(batch, vectors, strict=True):
        norm = float(np.linalg.norm(vector)) if np.all(np.isfinite(vector)) else 0.0
        if norm < 1e-6:
            bad.append((pending, "model returned a non-finite or zero vector"))
        else:
            good.append((pending, vector / norm))
    return good, bad


def embed_datasets(
    store: CatalogStore,
    encoder: Encoder,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    limit: int | None = None,
    encode: Callable[[Sequence[str]], np.ndarray] | None = None,
    run_id: str | None = None,
    log: logging.Logger | Any = logger,
    unit: EmbeddingUnit | None = None,
) -> EmbedReport:
    """Bring the stored vectors up to date with the catalog for `encoder`'s model (of one
    embedding unit's rows only, if given: units never share a row, so they run side by side).

    `limit` caps rows embedded in this run (the rest follow next run). `encode` defaults to the
    encoder's; a chunk that fails is bisected so one bad row never fails its neighbours.
    """
    started = time.perf_counter()
    encode = encode or encoder.encode
    report = EmbedReport(model=encoder.name, dimension=encoder.dimension)
    vector_store.ensure_embedding_schema(store, report.dimension)
    report.removed = vector_store.remove_inactive_embeddings(store, unit)
    pending: list[_Pending] = []

    def flush() -> None:
        if not pending:
            return
        t0 = time.perf_counter()
        good, bad = _encode_isolating_failures(encode, pending)
        report.encode_seconds += time.perf_counter() - t0
        rows = [vector_store.EmbeddingRow(p.dataset_id, p.content_hash, v) for p, v in good]
        report.embedded += vector_store.write_embeddings(store, encoder.name, rows)
        for p, error in bad:
            _record_failure(report, p.dataset_id, error, log)
        log.info(f"Embedded {report.embedded} so far ({report.unchanged} unchanged, {report.failed} failed)")
        pending.clear()

    for page in vector_store.iter_embedding_state(store, unit=unit):
        for row in page:
            try:
                text = build_embedding_text(row)
            except Exception as exc:  # a row we cannot even read must not stop the others
                _record_failure(report, row["id"], f"{type(exc).__name__}: {exc}", log)
                continue
            digest = content_hash(text)
            if row["model"] == encoder.name and row["content_hash"] == digest:
                report.unchanged += 1
                continue
            if limit is not None and report.embedded + report.failed + len(pending) >= limit:
                report.deferred += 1
                continue
            pending.append(_Pending(row["id"], text, digest))
            if len(pending) >= chunk_size:
                flush()
    flush()
    if report.failures:
        log_attempts(
            store,
            [
                {
                    "dataset_id": f["dataset_id"],
                    "stage": "embedding",
                    "result": EnrichmentResult.FAILED,
                    "attempt": 1,
                    "error_type": "EmbeddingError",
                    "error_message": f["error"],
                    "run_id": run_id,
                }
                for f in report.failures
            ],
        )
    report.seconds = time.perf_counter() - started
    return report


def _record_failure(report: EmbedReport, dataset_id: int, error: str, log) -> None:
    report.failed += 1
    if len(report.failures) < 1000:
        report.failures.append({"dataset_id": dataset_id, "error": error})
    if report.failed <= MAX_LOGGED_FAILURES:
        log.warning(f"Could not embed dataset id {dataset_id}: {error}")
