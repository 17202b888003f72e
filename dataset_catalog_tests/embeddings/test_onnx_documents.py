"""The ONNX document encoder (the `onnx` / `onnx-int8` backends of the embedding model): the query
path's export run on many texts, with the torch model's vectors; chosen through the resource or
$DATASET_CATALOG_EMBEDDING_BACKEND."""

import numpy as np
import pytest

from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings import onnx_documents
from dataset_catalog.embeddings.encoder import (
    BACKEND_ENV,
    BACKENDS,
    EmbeddingModelError,
    configured_backend,
    load_encoder,
)
from dataset_catalog.embeddings.onnx_query import export_folder

pytestmark = pytest.mark.slow  # an ONNX export (and an int8 quantisation) per test's cache folder

TEXTS = [
    "x",
    "movie reviews with sentiment labels",
    "中文新闻分类 · Détection d'anomalies · ÄÖÜ ß 🙂 <b>tags</b> · Ελληνικά · العربية",
    "Speech recognition corpus. " + "German read speech with transcripts and speaker metadata, " * 60,  # > 256 tokens
    "Tasks: text classification\nLanguages: German, English\nTags: reviews, sentiment\nProduct reviews.",
]


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch):
    monkeypatch.delenv(BACKEND_ENV, raising=False)


def test_onnx_document_vectors_are_the_torch_vectors(encoder):
    onnx = load_encoder(backend="onnx")
    assert onnx.backend == "onnx" and onnx.name == encoder.name and onnx.dimension == encoder.dimension
    assert onnx.model is encoder.model  # the torch model is loaded once and kept, for the export
    assert len(onnx.documents.tokenizer.encode(TEXTS[3]).ids) == 256  # cut to max_seq_length like the model
    expected, got = encoder.encode(TEXTS), onnx.encode(TEXTS)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.sum(expected * got, axis=1).min() >= 0.999
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # batched with padding per batch, longest first: the order and company of a text do not change its vector
    small = load_encoder(backend="onnx", batch_size=2)
    mixed = small.encode([TEXTS[1], TEXTS[3], TEXTS[0], TEXTS[1], TEXTS[2]])
    assert np.sum(mixed[[0, 3]] * got[1], axis=1).min() > 0.9999
    assert float(mixed[1] @ got[3]) > 0.9999 and float(mixed[2] @ got[0]) > 0.9999
    assert onnx.encode([]).shape == (0, encoder.dimension)
    assert (export_folder(encoder.name, encoder.source) / "model.onnx").exists()  # the query path's export


def test_int8_backend_uses_a_quantised_copy_beside_the_export(encoder):
    int8 = load_encoder(backend="onnx-int8")
    assert int8.documents.model_file == onnx_documents.INT8_FILE
    assert (export_folder(encoder.name, encoder.source) / onnx_documents.INT8_FILE).exists()
    cosines = np.sum(encoder.encode(TEXTS) * int8.encode(TEXTS), axis=1)
    assert cosines.min() >= 0.95  # near, not equal: docs/embeddings-and-search.md has the measurements


def test_backend_comes_from_the_resource_then_the_env(encoder, monkeypatch):
    assert EmbeddingModelResource().get_encoder().backend == "torch"  # the default
    assert EmbeddingModelResource().get_encoder().documents is None
    assert EmbeddingModelResource(backend="onnx").get_encoder().backend == "onnx"
    monkeypatch.setenv(BACKEND_ENV, "ONNX ")
    assert configured_backend() == "onnx"
    chosen = EmbeddingModelResource().get_encoder()  # as dataset_embeddings gets it
    assert chosen.backend == "onnx" and chosen.documents is not None
    assert load_encoder().backend == "onnx"  # the CLI's and the benchmarks' load path
    assert EmbeddingModelResource(backend="torch").get_encoder().backend == "torch"  # the setting wins


@pytest.mark.parametrize("where", ["resource", "env"])
def test_an_unknown_backend_is_our_error_naming_the_valid_values(where, monkeypatch):
    with pytest.raises(EmbeddingModelError) as info:
        if where == "env":
            monkeypatch.setenv(BACKEND_ENV, "tensorrt")
            load_encoder()
        else:
            EmbeddingModelResource(backend="tensorrt").get_encoder()
    message = str(info.value)
    assert "'tensorrt'" in message and BACKEND_ENV in message
    assert all(b in message for b in BACKENDS)


def test_onnx_backends_refuse_another_device_and_other_model_shapes(small_model_path):
    with pytest.raises(EmbeddingModelError, match="CPU only"):
        load_encoder(backend="onnx", device="cuda")
    with pytest.raises(EmbeddingModelError, match="torch"):  # a Dense layer after pooling: no export
        load_encoder(small_model_path, backend="onnx")
