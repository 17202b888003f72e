"""The search service over the test corpus: a real app (FastAPI) on a real catalog with vectors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.fakes.service_corpus import SERVICE_ROWS


@pytest.fixture
def served_store(store, corpus, encoder):
    store.upsert_datasets([dict(r) for r in SERVICE_ROWS])
    embed_datasets(store, encoder)
    return store


@pytest.fixture
def client(served_store, encoder):
    with TestClient(create_app(store=served_store, encoder=encoder), raise_server_exceptions=False) as test_client:
        yield test_client
