"""Embedding fixtures: a second model of another dimension, built from the bundled one."""

from __future__ import annotations

import pytest

from dataset_catalog.embeddings.encoder import Encoder, load_encoder
from dataset_catalog_tests.conftest import hub_offline


@pytest.fixture(scope="session")
def small_model_path(encoder, tmp_path_factory) -> str:
    """A genuinely different model: the bundled one plus a Dense layer down to 128 dimensions."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    torch.manual_seed(0)
    modules = [module for module in encoder.model if not isinstance(module, Normalize)]
    model = SentenceTransformer(modules=[*modules, Dense(384, 128), Normalize()], device="cpu")
    path = tmp_path_factory.mktemp("models") / "minilm-128"
    model.save(str(path))
    return str(path)


@pytest.fixture(scope="session")
def small_encoder(small_model_path) -> Encoder:
    with hub_offline():
        return load_encoder(small_model_path)
