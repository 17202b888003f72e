"""The out-of-process catalog writer: same results as in-process writes, errors surfaced, order kept."""

from __future__ import annotations

import gc

import pytest

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.catalog.writer_process import CatalogWriterProcess, InlineWriter, open_writer
from dataset_catalog.common.gc_tuning import fewer_gc_passes
from dataset_catalog.errors import CatalogWriteError


def _rows(start: int, count: int, **extra) -> list[dict]:
    return [
        {"source": "huggingface", "external_id": f"w/{i}", "title": f"T{i}", "tags": ["a", i], **extra}
        for i in range(start, start + count)
    ]


def _counts_into(reported: list[UpsertCounts]):
    return lambda counts, rows: reported.append(counts)


def test_batches_written_by_the_child_match_in_process_upserts(store):
    reported: list[UpsertCounts] = []
    with open_writer(store, _counts_into(reported)) as writer:
        assert isinstance(writer, CatalogWriterProcess)
        writer.submit(_rows(0, 300))
        writer.submit(_rows(200, 300))  # 100 overlap, unchanged
        writer.submit(_rows(0, 10, title="changed"))
    assert reported == [UpsertCounts(300, 0, 0), UpsertCounts(200, 0, 100), UpsertCounts(0, 10, 0)]
    rows = {r["external_id"]: r for r in store.fetch_datasets("huggingface")}
    assert len(rows) == 500
    assert rows["w/3"]["title"] == "changed" and rows["w/3"]["tags"] == ["a", 3]
    assert rows["w/499"]["title"] == "T499"


def test_insert_only_columns_are_honoured_in_the_child(store):
    store.upsert_datasets(_rows(0, 1, enrichment_status="enriched"))
    with open_writer(store, lambda counts, rows: None, insert_only={"enrichment_status"}) as writer:
        writer.submit(_rows(0, 2, enrichment_status="pending", title="new"))
    statuses = {r["external_id"]: (r["enrichment_status"], r["title"]) for r in store.fetch_datasets()}
    assert statuses == {"w/0": ("enriched", "new"), "w/1": ("pending", "new")}


def test_a_failing_batch_raises_a_clear_error_and_keeps_earlier_batches(store):
    reported: list[UpsertCounts] = []
    writer = CatalogWriterProcess(store, _counts_into(reported))
    writer.submit(_rows(0, 5))
    writer.submit(_rows(5, 5, enrichment_status=None))  # NOT NULL violation in the database
    try:
        with pytest.raises(
            CatalogWriteError, match=r"Writing a batch to the catalog .* failed: .*(NOT NULL|null value)"
        ):
            writer.submit(_rows(10, 5))
            writer.close()
    finally:
        writer._finish()  # a no-op when close() already ran
    assert reported == [UpsertCounts(5, 0, 0)]
    assert sorted(r["external_id"] for r in store.fetch_datasets()) == [f"w/{i}" for i in range(5)]


def test_the_database_url_never_reaches_the_child_command_line(database_url, store):
    writer = CatalogWriterProcess(store, lambda counts, rows: None)
    try:
        command_line = " ".join(writer._process.args)
        assert store.database_url not in command_line and "postgresql" not in command_line
    finally:
        writer.close()


def test_in_memory_sqlite_is_written_in_the_calling_thread():
    store = CatalogStore("sqlite://", allow_in_memory=True)
    counts: list[UpsertCounts] = []
    with open_writer(store, _counts_into(counts)) as writer:
        assert isinstance(writer, InlineWriter)
        writer.submit(_rows(0, 3))
    assert counts == [UpsertCounts(3, 0, 0)]
    # Visible to this thread's connection: an in-memory database exists once per connection.
    assert store.count_datasets("huggingface") == 3


def test_fewer_gc_passes_restores_the_thresholds():
    before = gc.get_threshold()
    with fewer_gc_passes(50_000):
        assert gc.get_threshold()[0] == max(50_000, before[0])
    assert gc.get_threshold() == before
