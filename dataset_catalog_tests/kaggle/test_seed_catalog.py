"""seed_catalog into SQLite and PostgreSQL: exact rows, idempotent re-seed, enrichment state kept."""

from __future__ import annotations

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.kaggle.seed import seed_catalog
from dataset_catalog_tests.fakes.meta_kaggle import (
    EXPECTED_LINES_READ,
    EXPECTED_REFS,
    EXPECTED_SKIPPED,
    FILES,
    write_meta_kaggle,
)


def test_seed_writes_exactly_the_resolvable_datasets(store, tmp_path):
    report = seed_catalog(store, write_meta_kaggle(tmp_path), batch_size=2)
    rows = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}
    assert set(rows) == set(EXPECTED_REFS)
    assert (report.total_processed, report.counts.inserted, report.counts.updated) == (EXPECTED_LINES_READ, 7, 0)
    assert report.skipped == EXPECTED_SKIPPED and report.batches == 4
    row = rows["alice/titanic-clean"]
    assert row["enrichment_status"] == "pending" and row["enrichment_attempts"] == 0 and row["is_active"]
    assert row["tags"] == ["computer science", "nlp"]
    assert row["source_meta"]["meta_kaggle"]["current_version_id"] == 501
    assert row["source_created_at"].replace(tzinfo=None).isoformat() == "2020-02-03T11:12:13"
    assert rows["alice/cafe-data"]["title"] == "Caf\ufffd data \ufffd"
    assert row["description"].count("\n") == 3
    # The standard fields its ref gives, as enrichment would write them (kaggle/mapping.ref_fields):
    # a row only ever seeded still says who made it and how to get it.
    assert row["creators"] == [{"name": "alice", "kind": "person"}]
    assert (row["load_code"], row["load_language"]) == ("kaggle datasets download -d alice/titanic-clean", "shell")
    if store.dialect == "sqlite":  # the bulk load's checkpoint setting is put back on its connection
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000


def test_reseed_is_idempotent_and_keeps_enrichment_state(store, tmp_path):
    paths = write_meta_kaggle(tmp_path / "v1")
    seed_catalog(store, paths, batch_size=3)
    enriched_at = sa.func.now()
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.external_id == "alice/titanic-clean")
            .values(
                enrichment_status="enriched",
                enrichment_attempts=1,
                last_enriched_at=enriched_at,
                file_formats=["csv"],
                size_bytes=1234,
                usability_rating=0.9,
            )
        )
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.external_id == "acme/acme-data")
            .values(enrichment_status="failed", enrichment_attempts=3, last_enrichment_error="boom")
        )
        # Enrichment keeps the file list in source_meta, beside the seed's meta_kaggle key.
        seeded_meta = conn.execute(
            sa.select(datasets.c.source_meta).where(datasets.c.external_id == "alice/titanic-clean")
        ).scalar_one()
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.external_id == "alice/titanic-clean")
            .values(source_meta={**seeded_meta, "kaggle_files": [{"name": "train.csv"}], "kaggle_file_count": 1})
        )
    before = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}

    again = seed_catalog(store, paths, batch_size=3)
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 7)
    assert {r["external_id"]: r for r in store.fetch_datasets("kaggle")} == before

    # A newer Meta Kaggle: counts and text change, enrichment stays.
    newer = dict(FILES)
    newer["Datasets"] = FILES["Datasets"].replace(
        b"1,1,1,,501,501,1,2,02/03/2020 11:12:13,03/04/2021,1000,200,30",
        b"1,1,1,,501,501,1,2,02/03/2020 11:12:13,03/04/2022,1500,260,41",
    )
    newer["DatasetVersions"] = FILES["DatasetVersions"].replace(b"Org description", b"Org description revised")
    updated = seed_catalog(store, write_meta_kaggle(tmp_path / "v2", newer), batch_size=3)
    assert (updated.counts.inserted, updated.counts.updated, updated.counts.unchanged) == (0, 2, 5)
    after = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}
    titanic, acme = after["alice/titanic-clean"], after["acme/acme-data"]
    assert (titanic["view_count"], titanic["download_count"], titanic["like_count"]) == (1500, 260, 41)
    assert titanic["source_updated_at"].year == 2022
    assert (titanic["enrichment_status"], titanic["enrichment_attempts"]) == ("enriched", 1)
    assert titanic["last_enriched_at"] == before["alice/titanic-clean"]["last_enriched_at"]
    assert (titanic["file_formats"], titanic["size_bytes"], titanic["usability_rating"]) == (["csv"], 1234, 0.9)
    assert titanic["source_meta"]["kaggle_files"] == [{"name": "train.csv"}]
    assert titanic["source_meta"]["kaggle_file_count"] == 1
    assert titanic["source_meta"]["meta_kaggle"]["current_version_id"] == 501
    assert acme["description"] == "Org description revised"
    assert (acme["enrichment_status"], acme["enrichment_attempts"], acme["last_enrichment_error"]) == (
        "failed",
        3,
        "boom",
    )
    assert store.count_datasets("kaggle") == 7


def comparable(rows):
    skip = {"id", "sync_hash", "created_at", "updated_at"}
    return {r["external_id"]: {k: v for k, v in r.items() if k not in skip} for r in rows}


def test_bulk_seed_writes_what_upsert_datasets_would(database_url, tmp_path):
    """The seed's bulk path and the store's own upsert give identical rows (types, JSON, timestamps)."""
    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.kaggle.meta_kaggle import MetaKaggleJoin
    from dataset_catalog_tests.conftest import create_pg_database

    paths = write_meta_kaggle(tmp_path / "files")
    bulk = CatalogStore(database_url)
    seed_catalog(bulk, paths, batch_size=4)
    if bulk.dialect == "sqlite":
        other_url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    else:
        other_url = create_pg_database(bulk.engine.url.set(database="postgres").render_as_string(False))
    reference = CatalogStore(other_url)
    with MetaKaggleJoin.build(paths) as joined:
        for rows in joined.batches(4):
            reference.upsert_datasets(
                [{**r, "enrichment_status": "pending"} for r in rows], insert_only=("enrichment_status",)
            )
    assert comparable(bulk.fetch_datasets("kaggle")) == comparable(reference.fetch_datasets("kaggle"))
    assert len(comparable(bulk.fetch_datasets("kaggle"))) == 7

    # A row last written by upsert_datasets (e.g. the latest-datasets asset) is re-seeded correctly,
    # and the next upsert_datasets of it is never skipped as "unchanged".
    row = next(r for r in joined_rows_of(paths) if r["external_id"] == "bob/shared")
    bulk.upsert_datasets([{**row, "title": "Renamed by the API"}])
    again = seed_catalog(bulk, paths, batch_size=4)
    assert again.counts.updated >= 1
    assert bulk.fetch_datasets("kaggle", ["bob/shared"])[0]["title"] == "Shared New"
    assert bulk.upsert_datasets([{**row, "title": "Renamed by the API"}]).updated == 1
    assert bulk.fetch_datasets("kaggle", ["bob/shared"])[0]["title"] == "Renamed by the API"


def joined_rows_of(paths):
    from dataset_catalog.kaggle.meta_kaggle import MetaKaggleJoin

    with MetaKaggleJoin.build(paths) as joined:
        return [r for batch in joined.batches(100) for r in batch]


def test_prefetched_batches_keep_order_and_pass_errors_on():
    import threading
    import time

    import pytest

    from dataset_catalog.common.prefetch import prefetched

    assert list(prefetched(iter([[1], [2], [3]]))) == [[1], [2], [3]]

    def failing():
        yield [1]
        raise RuntimeError("duckdb broke")

    with pytest.raises(RuntimeError, match="duckdb broke"):
        list(prefetched(failing()))

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield [i]
            i += 1

    batches = prefetched(endless(), name="test-batches")
    assert next(batches) == [0]
    batches.close()  # the consumer stops early: the producer thread must end too
    assert not [t for t in threading.enumerate() if t.name == "test-batches"]
    assert len(produced) <= 3

    # The consumer stops while the last batch and the end are still to be handed over: this
    # used to leave the producer blocked on a full queue and the join waiting for ever.
    short = prefetched(iter([[1], [2]]), name="test-short")
    assert next(short) == [1]
    time.sleep(0.3)  # let the producer queue [2] and wait to hand over the end
    closer = threading.Thread(target=short.close)
    closer.start()
    closer.join(timeout=5)
    assert not closer.is_alive(), "closing the consumer hung"


def test_a_header_only_datasets_file_seeds_nothing_and_says_so(store, tmp_path):
    files = dict(FILES)
    files["Datasets"] = FILES["Datasets"].split(b"\n", 1)[0] + b"\n"
    report = seed_catalog(store, write_meta_kaggle(tmp_path, files))
    assert report.counts.written == 0 and store.count_datasets() == 0
    assert report.metadata()["warnings"] == "Datasets.csv has no data rows (a header only?): nothing was seeded."
    assert report.metadata()["csv_rejected_samples"] == "none"
