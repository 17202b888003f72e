import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore, StagedRows, UpsertCounts
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.errors import CatalogConfigError


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
        conn.execute(sa.update(datasets).values(enrichment_attempts=2, link_status="ok", last_enrichment_error="boom"))
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
        conn.execute(
            sa.text(
                f"CREATE TABLE datasets (id {id_ddl}, source VARCHAR(32) NOT NULL, external_id VARCHAR(512) NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, UNIQUE (source, external_id))"
            )
        )
        conn.execute(sa.text("CREATE INDEX ix_datasets_enrichment ON datasets (source)"))  # replaced since
        conn.execute(sa.text("CREATE INDEX ix_datasets_state ON datasets (source)"))  # replaced since
    engine.dispose()
    with CatalogStore(database_url) as store, CatalogStore(database_url):  # the second open changes nothing
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("datasets")}
        assert {"link_status", "enrichment_status", "source_meta", "sync_hash"} <= columns
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(store.engine).get_indexes("datasets")}
        assert indexes["ix_datasets_summary"] == ["source", "enrichment_status", "is_active", "link_status"]
        assert "ix_datasets_enrichment" not in indexes and "ix_datasets_state" not in indexes
        store.upsert_datasets([_row("u/1")])
        assert store.fetch_datasets()[0]["enrichment_status"] == "pending"


def test_rejects_state_columns_from_a_sync(store):
    with pytest.raises(ValueError, match="link_status"):
        store.upsert_datasets([_row("x/1", link_status="ok")])


def test_password_hidden_in_display_url_and_in_the_error_of_a_store_that_cannot_open(pg_admin_url):
    with CatalogStore(pg_admin_url) as store:
        password = sa.make_url(pg_admin_url).password
        assert store.display_url == sa.make_url(pg_admin_url).render_as_string(hide_password=True)
        assert not password or password not in store.display_url
    with pytest.raises(CatalogConfigError) as refused:
        CatalogStore("postgresql://user:s3cretpass@127.0.0.1:1/db")
    assert "postgresql://user:***@127.0.0.1:1/db" in str(refused.value) and "s3cretpass" not in str(refused.value)


def test_upserts_store_exactly_what_sqlalchemy_would_store(store):
    """Our generated binding (and COPY on PostgreSQL) against SQLAlchemy's own insert: the stored
    text of JSON and timestamp columns must be identical."""
    from datetime import UTC, datetime, timedelta, timezone

    from dataset_catalog.catalog.upsert_statements import JsonText

    samples = [
        {
            "tags": None,
            "source_meta": {"k": [1, 2.5, None, True], "nested": {"a": "ü"}},
            "source_created_at": datetime(2025, 6, 1, tzinfo=UTC),
            "source_updated_at": None,
        },
        {
            "tags": ["a", "b"],
            "source_meta": {1: "non-str key"},
            "column_names": [],
            "source_created_at": datetime(2025, 6, 1, 23, 59, 59, 123456, tzinfo=UTC),
            "source_updated_at": datetime(2025, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        },
        {
            "tags": "text",
            "source_meta": None,
            "column_names": ["x"],
            "source_created_at": datetime(999, 1, 2, 3, 4, 5),
            "source_updated_at": datetime(2025, 1, 1, tzinfo=UTC),
        },
    ]
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

    from dataset_catalog.catalog.engine import SQLITE_PAGE_SIZE

    CatalogStore(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with sqlite3.connect(tmp_path / "fresh.sqlite3") as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == SQLITE_PAGE_SIZE == 16384
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_staged_rows_follow_the_same_rule_through_the_same_entry_point(store):
    columns = ("external_id", "title", "source_meta")
    constants = {"source": "kaggle", "enrichment_status": "pending"}  # status: new rows only
    first = StagedRows(
        columns,
        [("s/1", "One", '{"seed": 1}'), ("s/2", "Two", '{"seed": 2}')],
        constants=constants,
        merge_json={"source_meta": ("seed",)},
    )
    assert store.upsert_datasets(first, insert_only={"enrichment_status"}) == UpsertCounts(2, 0, 0)
    with store.engine.begin() as conn:  # enrichment's own state and source_meta key
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.external_id == "s/1")
            .values(enrichment_status="enriched", source_meta={"seed": 1, "files": 3})
        )
    again = StagedRows(
        columns,
        [("s/1", "One", '{"seed": 1}'), ("s/2", "Two v2", '{"seed": 2}')],
        constants=constants,
        merge_json={"source_meta": ("seed",)},
    )
    assert store.upsert_datasets(again, insert_only={"enrichment_status"}) == UpsertCounts(0, 1, 1)
    rows = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}
    assert (rows["s/1"]["enrichment_status"], rows["s/1"]["source_meta"]) == ("enriched", {"seed": 1, "files": 3})
    assert (rows["s/2"]["title"], rows["s/2"]["enrichment_status"], rows["s/2"]["sync_hash"]) == (
        "Two v2",
        "pending",
        None,
    )
    # A staged write clears the hash, so the next dict upsert of the row writes once, then never again.
    synced = [{"source": "kaggle", "external_id": "s/2", "title": "Two v2"}]
    assert store.upsert_datasets(synced) == UpsertCounts(0, 1, 0)
    assert store.upsert_datasets(synced) == UpsertCounts(0, 0, 1)


def test_staged_rows_as_csv_and_their_mistakes(store):
    csv = StagedRows(("source", "external_id", "title"), csv=b'kaggle,c/1,"Comma, quoted"\nkaggle,c/2,\n')
    if store.dialect == "postgresql":
        assert store.upsert_datasets(csv) == UpsertCounts(2, 0, 0)
        assert [r["title"] for r in store.fetch_datasets("kaggle")] == ["Comma, quoted", None]
    else:
        with pytest.raises(ValueError, match="CSV staging is for PostgreSQL"):
            store.upsert_datasets(csv)
    with pytest.raises(ValueError, match="insert-only columns must be staged or constant"):
        store.upsert_datasets(StagedRows(("source", "external_id"), [("kaggle", "x/1")]), insert_only={"title"})
    with pytest.raises(ValueError, match="link_status"):
        store.upsert_datasets(StagedRows(("source", "external_id", "link_status"), [("kaggle", "x/1", "ok")]))


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_an_in_memory_catalog_is_refused(url):
    """Its rows vanish with the process: `hf_datasets` used to report them committed and exit 0."""
    with pytest.raises(CatalogConfigError, match="in-memory SQLite database: everything written to it is lost"):
        CatalogStore(url)


@pytest.mark.parametrize("path", ["/etc/passwd/c.sqlite3", "/proc/no-such-folder/c.sqlite3"])
def test_a_catalog_path_that_cannot_be_created_is_a_clear_error(path):
    with pytest.raises(
        CatalogConfigError, match=r"Cannot create the folder /(etc/passwd|proc/no-such-folder) for the SQLite"
    ):
        CatalogStore(f"sqlite:///{path}")
