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


def test_fast_bind_converters_match_sqlalchemy_processors(database_url):
    """The upsert's own value conversion must store exactly what SQLAlchemy's processors store."""
    from datetime import UTC, date, datetime, timedelta, timezone

    import orjson

    from dataset_catalog.catalog.store import engine_for
    from dataset_catalog.catalog.upsert_statements import bind_converter, json_dumps

    dialect = engine_for(database_url).dialect
    samples = {
        sa.JSON: [None, [], ["a", "b"], {"k": [1, 2.5, None, True]}, {1: "non-str key"}, "text", 3],
        sa.DateTime: [
            None,
            datetime(2025, 6, 1, tzinfo=UTC),
            datetime(2025, 6, 1, 23, 59, 59, 123456, tzinfo=UTC),
            datetime(999, 1, 2, 3, 4, 5),  # naive, three-digit year
            datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
            date(2025, 6, 1),
        ],
    }
    checked = 0
    for column in datasets.columns:
        expected_processor = column.type._cached_bind_processor(dialect)
        for kind, values in samples.items():
            if isinstance(column.type, kind):
                convert = bind_converter(dialect, column.name) or (lambda v: v)
                for value in values:
                    expected = expected_processor(value) if expected_processor else value
                    got = convert(value)
                    if hasattr(expected, "obj"):  # psycopg's Jsonb wrapper: the COPY path sends its JSON text
                        expected = json_dumps(expected.obj)
                        assert orjson.loads(got) == orjson.loads(expected)
                    assert got == expected, (column.name, value)
                    checked += 1
    assert checked > 40


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
