"""The ONNX query encoder: exported once from the sentence-transformers model, it encodes like it
(cosine >= 0.999 on 1,000 texts), and query-only processes pick it up without torch."""

import random

import numpy as np
import pytest

from dataset_catalog.embeddings.encoder import Encoder, load_query_encoder
from dataset_catalog.embeddings.onnx_query import (
    QUERY_ENCODER_ENV,
    OnnxQueryEncoder,
    export_onnx_query_encoder,
    load_onnx_query_encoder,
)
from dataset_catalog_tests.fakes.corpus import CORPUS

pytestmark = pytest.mark.slow  # an export and 2,000 encodings


def thousand_texts() -> list[str]:
    rng = random.Random(5)
    words = " ".join(r["description"] for r in CORPUS).split()
    texts = [r["title"] for r in CORPUS] + [r["description"] for r in CORPUS]
    texts += ["中文新闻分类", "Détection d'anomalies", "x", "german speech " * 200, "ÄÖÜ ß 🙂 <b>tags</b>"]
    while len(texts) < 1000:
        texts.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 60))))
    return texts


def test_exported_encoder_agrees_with_the_model_on_1000_texts(encoder):
    folder = export_onnx_query_encoder(encoder)
    assert folder is not None and {p.name for p in folder.iterdir()} == {"model.onnx", "tokenizer.json", "meta.json"}
    fast = load_onnx_query_encoder(encoder.name, encoder.source)
    assert isinstance(fast, OnnxQueryEncoder) and fast.dimension == encoder.dimension
    texts = thousand_texts()
    expected = encoder.encode(texts)
    got = np.concatenate([fast.encode(texts[i : i + 50]) for i in range(0, len(texts), 50)])
    cosines = np.sum(expected * got, axis=1)
    assert cosines.min() >= 0.999, texts[int(cosines.argmin())][:80]
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (
        float(fast.encode(["one query"])[0] @ fast.encode(["one query", "a much longer second query in the batch"])[0])
        > 0.9999
    )


def test_query_only_processes_use_the_export_unless_told_otherwise(encoder, monkeypatch):
    assert isinstance(load_query_encoder(), Encoder)  # nothing exported yet in this test's cache
    export_onnx_query_encoder(encoder)
    assert isinstance(load_query_encoder(), OnnxQueryEncoder)
    monkeypatch.setenv(QUERY_ENCODER_ENV, "torch")
    assert isinstance(load_query_encoder(), Encoder)


def test_models_of_another_shape_are_not_exported(small_encoder):
    assert export_onnx_query_encoder(small_encoder) is None  # a Dense layer after pooling: torch path
    assert load_onnx_query_encoder(small_encoder.name, small_encoder.source) is None
