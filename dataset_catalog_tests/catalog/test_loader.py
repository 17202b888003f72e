"""The one loader: batches, day counts, skips, a merge step run by the writer, what a failing source keeps."""

from __future__ import annotations

import pytest

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.catalog.loader import CHECKPOINT, PREVIEW_ROWS, DayCounts, Merge, Skipped, load
from dataset_catalog.errors import SourceUnavailableError

SOURCE = "huggingface"


def _row(i: int, **extra) -> dict:
    return {"source": SOURCE, "external_id": f"l/{i}", "title": f"T{i}", **extra}


def _ids(store: CatalogStore) -> list[str]:
    return sorted(r["external_id"] for r in store.fetch_datasets(SOURCE))


def test_rows_are_batched_committed_and_counted_by_day(store):
    store.upsert_datasets([_row(0)])
    items = [
        *((_row(i), "2025-03-09") for i in range(3)),
        Skipped("malformed", "2025-03-09"),
        Skipped("malformed"),  # no readable day: in the total only
        *((_row(i), "2025-03-10") for i in range(3, 8)),
    ]
    report = load(store, iter(items), batch_size=3, skip_reasons=("malformed", "deleted"))
    assert _ids(store) == [f"l/{i}" for i in range(8)]
    assert (report.counts.inserted, report.counts.unchanged, report.loaded, report.handed_over) == (7, 1, 8, 8)
    assert report.skipped == {"malformed": 2, "deleted": 0}
    assert report.by_day() == {
        "2025-03-09": DayCounts(2, 0, 1, {"malformed": 1}),
        "2025-03-10": DayCounts(5, 0, 0),
    }
    assert [r["external_id"] for r in report.preview] == [f"l/{i}" for i in range(8)]
    assert set(report.preview[0]) == {"external_id", "title", "license", "download_count", "source_updated_at"}


def test_checkpoints_hand_the_rows_so_far_over_and_log_progress(store):
    def items():
        yield from ((_row(i), None) for i in range(4))
        yield CHECKPOINT  # under batch_size, yet handed over here
        yield (_row(9), None)

    def progress(report) -> str:
        return f"{report.handed_over} handed over"

    lines: list[str] = []

    class Log:
        info = lines.append

    report = load(store, items(), batch_size=100, commit_at_checkpoints=True, progress=progress, log=Log())
    assert report.counts == UpsertCounts(5, 0, 0) and report.by_day() == {}
    assert lines == ["4 handed over", "5 handed over"]  # the first checkpoint, then once at the end
    assert store.count_datasets() == 5


def count_items(store: CatalogStore, batch: dict) -> list[dict]:
    """A merge step: each key's row counts every item it was ever given (the stored count plus this batch's)."""
    stored = store.source_meta_of(SOURCE, [str(key) for key in batch])
    rows = []
    for key, items in batch.items():
        before = (stored.get(str(key)) or {}).get("items", [])
        merged = sorted({*before, *items})
        rows.append(
            {
                "source": SOURCE,
                "external_id": str(key),
                "title": f"{len(merged)} items",
                "source_meta": {"items": merged},
            }
        )
    return rows


def _key_of(item: int) -> int:
    return item // 100


@pytest.mark.parametrize("in_process", [False, True])
def test_a_merge_runs_in_the_writer_and_each_batch_sees_the_previous_ones(store, in_process):
    # Keys 1..12, each with items in several batches (2 keys a batch): the later batch must read the earlier one's row.
    items = [(key * 100 + n, f"2025-03-{10 + n:02d}") for n in range(3) for key in range(1, 13)]
    merge = Merge(key=_key_of, rows=count_items)
    report = load(store, iter(items), batch_size=2, merge=merge, in_process=in_process)
    rows = {r["external_id"]: r for r in store.fetch_datasets(SOURCE)}
    assert sorted(rows, key=int) == [str(k) for k in range(1, 13)]
    assert all(r["title"] == "3 items" for r in rows.values())
    assert rows["5"]["source_meta"]["items"] == [500, 501, 502]
    assert (report.counts.inserted, report.counts.updated, report.handed_over) == (12, 24, 36)
    # A key's day is its batch's latest item's: each batch here holds one day.
    assert {day: c.loaded for day, c in report.by_day().items()} == {
        "2025-03-10": 12,
        "2025-03-11": 12,
        "2025-03-12": 12,
    }
    assert len(report.preview) == PREVIEW_ROWS and report.preview[0]["title"] == "1 items"


def test_a_failing_source_keeps_the_rows_it_yielded(store):
    def items():
        yield from ((_row(i), None) for i in range(5))
        raise SourceUnavailableError("the source went away")

    with pytest.raises(SourceUnavailableError, match="went away"):
        load(store, items(), batch_size=100)
    assert _ids(store) == [f"l/{i}" for i in range(5)]
