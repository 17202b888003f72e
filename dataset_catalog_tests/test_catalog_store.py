import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import datasets


def _row(ext, **kw):
    return {"source": "huggingface", "external_id": ext, "title": ext.upper(), "tags": ["a"], **kw}


def test_upsert_counts_and_idempotence(store):
    rows = [_row("a/1"), _row("a/2"), _row("a/3")]
    assert store.upsert_datasets(rows).inserted == 3
    again = store.upsert_datasets(rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    rows[1]["title"] = "changed"
    changed = store.upsert_datasets(rows)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 2)
    assert store.count_datasets("huggingface") == 3
    assert {r["external_id"]: r["title"] for r in store.fetch_datasets()}["a/2"] == "changed"


def test_update_keeps_columns_it_does_not_carry(store):
    store.upsert_datasets([_row("k/1", description="long text", enrichment_status="pending")])
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(datasets).values(enrichment_attempts=2, link_status="ok", last_enrichment_error="boom")
        )
    store.upsert_datasets([_row("k/1", title="New title")], insert_only={"enrichment_status"})
    row = store.fetch_datasets()[0]
    assert row["title"] == "New title"
    assert row["description"] == "long text"
    assert (row["enrichment_attempts"], row["link_status"], row["last_enrichment_error"]) == (2, "ok", "boom")


def test_insert_only_columns_are_not_overwritten(store):
    store.upsert_datasets([_row("k/1", enrichment_status="pending")], insert_only={"enrichment_status"})
    with store.engine.begin() as conn:
        conn.execute(sa.update(datasets).values(enrichment_status="enriched"))
    counts = store.upsert_datasets([_row("k/1", enrichment_status="pending")], insert_only={"enrichment_status"})
    assert counts.unchanged == 1
    assert store.fetch_datasets()[0]["enrichment_status"] == "enriched"


def test_duplicate_keys_within_a_batch_last_wins(store):
    counts = store.upsert_datasets([_row("d/1", title="first"), _row("d/1", title="second")])
    assert counts.inserted == 1
    assert store.fetch_datasets()[0]["title"] == "second"


def test_schema_creation_is_idempotent_and_upgrades_old_tables(database_url):
    engine = sa.create_engine(database_url)
    id_ddl = "INTEGER PRIMARY KEY" if engine.dialect.name == "sqlite" else "BIGSERIAL PRIMARY KEY"
    with engine.begin() as conn:  # a table as an older version created it
        conn.execute(sa.text(f"CREATE TABLE datasets (id {id_ddl}, source VARCHAR(32) NOT NULL, external_id VARCHAR(512) NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, UNIQUE (source, external_id))"))
        conn.execute(sa.text("CREATE INDEX ix_datasets_enrichment ON datasets (source)"))  # replaced since
    engine.dispose()
    store = CatalogStore(database_url)
    store.ensure_schema()
    CatalogStore(database_url).ensure_schema()
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("datasets")}
    assert {"link_status", "enrichment_status", "source_meta", "sync_hash"} <= columns
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(store.engine).get_indexes("datasets")}
    assert indexes["ix_datasets_state"] == ["source", "enrichment_status", "is_active"]
    assert "ix_datasets_enrichment" not in indexes
    store.upsert_datasets([_row("u/1")])
    assert store.fetch_datasets()[0]["enrichment_status"] == "pending"


def test_rejects_state_columns_from_a_sync(store):
    import pytest

    with pytest.raises(ValueError, match="link_status"):
        store.upsert_datasets([_row("x/1", link_status="ok")])


def test_enrichment_log_rows(store):
    store.upsert_datasets([_row("e/1")])
    dataset_id = store.fetch_datasets()[0]["id"]
    store.log_enrichment([{"dataset_id": dataset_id, "stage": "api_metadata", "result": "success", "attempt": 1, "duration_ms": 5, "run_id": "r1"}])
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT stage, result, attempt FROM enrichment_log")).all()
    assert [tuple(r) for r in rows] == [("api_metadata", "success", 1)]


def test_password_hidden_in_display_url():
    store = CatalogStore("postgresql://user:s3cretpass@127.0.0.1:1/db")
    assert "s3cretpass" not in store.display_url


def test_upserts_store_exactly_what_sqlalchemy_would_store(store):
    """Our generated binding (and COPY on PostgreSQL) against SQLAlchemy's own insert: the stored
    text of JSON and timestamp columns must be identical."""
    from datetime import UTC, datetime, timedelta, timezone

    from dataset_catalog.catalog.upsert_statements import JsonText

    samples = [
        {"tags": None, "source_meta": {"k": [1, 2.5, None, True], "nested": {"a": "ü"}},
         "source_created_at": datetime(2025, 6, 1, tzinfo=UTC), "source_updated_at": None},
        {"tags": ["a", "b"], "source_meta": {1: "non-str key"}, "column_names": [],
         "source_created_at": datetime(2025, 6, 1, 23, 59, 59, 123456, tzinfo=UTC),
         "source_updated_at": datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))},
        {"tags": "text", "source_meta": None, "column_names": ["x"], "source_created_at": datetime(999, 1, 2, 3, 4, 5),
         "source_updated_at": datetime(2025, 1, 1, tzinfo=UTC)},
    ]  # fmt: skip
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with store.engine.begin() as conn:
        for n, values in enumerate(samples):
            row = {"source": "huggingface", "external_id": f"sa/{n}", "created_at": now, "updated_at": now, **values}
            conn.execute(sa.insert(datasets), [row])
    store.upsert_datasets([{"source": "huggingface", "external_id": f"us/{n}", **v} for n, v in enumerate(samples)])
    raw = {"source_meta": JsonText('{"k":[1,2.5,null,true],"nested":{"a":"ü"}}')}
    store.upsert_datasets([{"source": "huggingface", "external_id": "us/0", **samples[0], **raw}])  # same stored JSON

    columns = ["tags", "source_meta", "column_names", "source_created_at", "source_updated_at"]
    text_of = ", ".join(f"CAST({c} AS TEXT)" for c in columns)
    with store.engine.connect() as conn:
        stored = {r[0]: tuple(r[1:]) for r in conn.execute(sa.text(f"SELECT external_id, {text_of} FROM datasets"))}
    for n in range(len(samples)):
        assert stored[f"us/{n}"] == stored[f"sa/{n}"], (n, stored[f"us/{n}"], stored[f"sa/{n}"])
    assert stored["us/1"][3].startswith("2025-06-01 23:59:59.123456")


def test_pre_serialised_json_text_is_stored_as_that_json(store):
    from dataset_catalog.catalog.upsert_statements import JsonText

    store.upsert_datasets([_row("j/1", source_meta=JsonText('{"raw": [1, 2], "n": null}'), tags=["t"])])
    (row,) = store.fetch_datasets(external_ids=["j/1"])
    assert row["source_meta"] == {"raw": [1, 2], "n": None} and row["tags"] == ["t"]


def test_new_sqlite_catalog_files_use_16k_pages(tmp_path):
    import sqlite3

    from dataset_catalog.catalog.store import SQLITE_PAGE_SIZE

    CatalogStore(f"sqlite:///{tmp_path / 'fresh.sqlite3'}").ensure_schema()
    with sqlite3.connect(tmp_path / "fresh.sqlite3") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == SQLITE_PAGE_SIZE == 16384
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
