"""hf_datasets against a fake Hub over real HTTP with the real huggingface_hub pager."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.defs.common.daily_partitions import UnknownPartitionError
from dataset_catalog_tests.fakes.hf_hub import day_items, make_hub_item
from dataset_catalog_tests.huggingface.conftest import materialization_metadata, partition_metadata, run_log_text

DAY = datetime(2025, 3, 10, tzinfo=UTC)


def _ids(store: CatalogStore) -> set[str]:
    return {r["external_id"] for r in store.fetch_datasets("huggingface")}


def test_partition_window_edges_midnight_belongs_to_its_own_day(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(
        [
            make_hub_item("edge/at-midnight", DAY),  # first instant of the day: inside
            make_hub_item("edge/last-ms", DAY + timedelta(days=1) - timedelta(milliseconds=1)),
            make_hub_item("edge/next-midnight", DAY + timedelta(days=1)),  # next day's partition
            make_hub_item("edge/before", DAY - timedelta(milliseconds=1)),  # previous day
            make_hub_item("edge/much-older", DAY - timedelta(days=30)),
        ]
    )
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10")
    assert result.success
    assert _ids(store) == {"edge/at-midnight", "edge/last-ms"}
    meta = materialization_metadata(result)
    assert (meta["total_fetched"], meta["total_inserted"], meta["skipped_newer"]) == (2, 2, 1)
    assert meta["window_start"] == "2025-03-10T00:00:00+00:00"
    # The walk stopped at the first older item: one page, and the much older item was never mapped.
    assert meta["pages_read"] == 1 and meta["items_scanned"] == 4


def test_walk_stops_requesting_pages_once_past_the_window(database_url, store, fake_hub, run_hf):
    items = day_items(DAY, 30) + day_items(DAY - timedelta(days=1), 30) + day_items(DAY - timedelta(days=5), 300)
    fake_hub.set_items(items)
    fake_hub.default_page_size = 20  # 18 pages in all; the window ends inside page 2
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", config={"batch_size": 7})
    assert result.success
    assert len(_ids(store)) == 30
    assert len(fake_hub.api_requests) == 2


def test_row_mapping_from_hub_fields(database_url, store, fake_hub, run_hf):
    item = make_hub_item(
        "stanfordnlp/imdb",
        DAY + timedelta(hours=5),
        downloads=1234,
        likes=56,
        pretty_name="IMDB movie reviews",
        description="Large Movie Review Dataset.",
        tags=[
            "task_categories:text-classification",
            "language:en",
            "license:other",
            "format:parquet",
            "size_categories:10K<n<100K",
        ],
        license="apache-2.0",
    )
    item["cardData"]["dataset_info"] = {
        "features": [{"name": "text"}, {"name": "label"}],
        "splits": [{"name": "train", "num_examples": 25000}, {"name": "test", "num_examples": 25000}],
    }
    fake_hub.set_items([item])
    assert run_hf(database_url, fake_hub.url, partition="2025-03-10").success
    [row] = store.fetch_datasets("huggingface")
    assert row["title"] == "IMDB movie reviews"
    assert row["url"] == "https://huggingface.co/datasets/stanfordnlp/imdb"
    assert row["license"] == "apache-2.0"  # cardData wins over the license: tag
    assert row["task_categories"] == ["text-classification"]
    assert row["languages"] == ["en"] and row["file_formats"] == ["parquet"]
    assert row["size_category"] == "10K<n<100K"
    assert (row["download_count"], row["like_count"], row["row_count"]) == (1234, 56, 50000)
    assert row["column_names"] == ["text", "label"]
    assert row["enrichment_status"] == "enriched"
    assert row["source_meta"]["id"] == "stanfordnlp/imdb"
    assert row["source_updated_at"].replace(tzinfo=UTC) == DAY + timedelta(hours=5)


def test_range_backfill_is_one_walk_and_each_partition_has_its_own_counts(database_url, store, fake_hub, run_hf):
    """Every partition of a range run used to carry the run's totals (and its tables)."""
    per_day = {DAY - timedelta(days=d): n for d, n in enumerate((4, 4, 1, 3, 2))}  # 03-10 .. 03-06
    fake_hub.set_items(
        [item for day, n in per_day.items() for item in day_items(day, n)] + day_items(DAY - timedelta(days=9), 4)
    )
    store.upsert_datasets(
        [
            {
                "source": "huggingface",
                "external_id": day_items(DAY - timedelta(days=1), 4)[0]["id"],
                "title": "seen before",
                "enrichment_status": "enriched",
            }
        ]
    )
    result = run_hf(database_url, fake_hub.url, partition_range=("2025-03-07", "2025-03-09"))
    assert result.success
    got = _ids(store)
    assert len(got) == 8 and all(any(f"-2025030{d}-" in i for d in (7, 8, 9)) for i in got)
    assert len(fake_hub.api_requests) == 1  # one listing walk for the whole range
    by_partition = partition_metadata(result)
    assert sorted(by_partition) == ["2025-03-07", "2025-03-08", "2025-03-09"]
    counts = {key: (m["total_fetched"], m["total_inserted"], m["total_updated"]) for key, m in by_partition.items()}
    assert counts == {"2025-03-07": (3, 3, 0), "2025-03-08": (1, 1, 0), "2025-03-09": (4, 3, 1)}
    run_level = [key for key, m in by_partition.items() if "window_start" in m]
    assert run_level == ["2025-03-09"]  # the run's own numbers and tables: once, on the newest partition
    newest = by_partition["2025-03-09"]
    assert newest["window_start"].startswith("2025-03-07") and newest["window_end"].startswith("2025-03-10")
    assert (newest["run_partitions"], newest["run_total_fetched"], newest["dagster/row_count"]) == (3, 8, 8)
    assert "preview" not in by_partition["2025-03-07"]


@pytest.mark.slow
def test_backfill_of_every_partition_sees_datasets_older_than_the_first_partition(
    database_url, store, fake_hub, run_hf
):
    ancient = make_hub_item("old/ancient", datetime(2018, 6, 1, tzinfo=UTC))
    fake_hub.set_items([ancient, *day_items(DAY, 3)])
    result = run_hf(database_url, fake_hub.url, partition_range=("2020-01-01", "2025-03-10"))
    assert result.success
    assert "old/ancient" in _ids(store)


def test_paging_follows_link_cursor_with_all_params(database_url, fake_hub, run_hf):
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
    from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets

    fake_hub.set_items(day_items(DAY, 95))
    listing = HuggingFaceResource(endpoint=fake_hub.url, page_size=10).listing()
    store = CatalogResource(database_url=database_url).get_store()
    report = sync_hf_datasets(listing.pages(), store, SyncWindow(DAY, DAY + timedelta(days=1)), batch_size=20)
    assert report.pages_read == 10 and report.load.loaded == 95
    assert store.count_datasets("huggingface") == 95
    for request in fake_hub.api_requests:
        assert request.query["sort"] == ["lastModified"]
        assert "cardData" in request.query["expand"] and "lastModified" in request.query["expand"]
    assert "cursor" in fake_hub.api_requests[-1].query


def test_idempotent_rerun_keeps_rows_and_enrichment_state(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(day_items(DAY, 20))
    assert run_hf(database_url, fake_hub.url, partition="2025-03-10").success
    with store.engine.begin() as conn:
        conn.execute(sa.update(datasets).values(link_status="ok", link_failure_count=1, enrichment_attempts=2))
    before = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10")
    meta = materialization_metadata(result)
    assert (meta["total_inserted"], meta["total_updated"], meta["total_unchanged"]) == (0, 0, 20)
    rows = store.fetch_datasets()
    assert {r["external_id"]: r["id"] for r in rows} == before
    assert all(r["link_status"] == "ok" and r["enrichment_attempts"] == 2 for r in rows)
    # A changed dataset is updated in place; state columns survive.
    items = day_items(DAY, 20)
    items[3]["likes"] = 999
    fake_hub.set_items(items)
    meta = materialization_metadata(run_hf(database_url, fake_hub.url, partition="2025-03-10"))
    assert (meta["total_inserted"], meta["total_updated"]) == (0, 1)
    assert store.count_datasets() == 20
    assert all(r["link_status"] == "ok" for r in store.fetch_datasets())


def test_limit_caps_datasets_written(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(day_items(DAY, 50))
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", config={"limit": 7, "batch_size": 3})
    meta = materialization_metadata(result)
    assert meta["total_fetched"] == 7 and store.count_datasets() == 7
    assert "limit" in meta["stop_reason"]


def test_malformed_items_are_skipped_or_cleaned_and_the_rest_is_written(
    database_url, store, fake_hub, run_hf, dagster_instance
):
    good = day_items(DAY, 5)
    fake_hub.set_items(good)
    at = (DAY + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake_hub.add_raw({"lastModified": at, "downloads": 3}, at)  # no id
    fake_hub.add_raw({"id": "bad/date", "lastModified": "yesterday-ish"}, at)
    fake_hub.add_raw("not even an object", at)
    fake_hub.add_raw({"id": 12345, "lastModified": at}, at)  # wrong type for id
    weird = make_hub_item("weird/types", DAY + timedelta(hours=2))
    weird.update(downloads="lots", likes=None, tags="language:en", cardData=["not", "a", "dict"], createdAt="garbage")
    weird["description"] = "nul\x00byte " + "x" * 2_000_000
    fake_hub.add_raw(weird, at)
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", instance=dagster_instance)
    assert result.success
    meta = materialization_metadata(result)
    assert meta["skipped_malformed"] == 4 and meta["cleaned"] == 1
    rows = {r["external_id"]: r for r in store.fetch_datasets()}
    assert set(rows) == {i["id"] for i in good} | {"weird/types"}
    weird_row = rows["weird/types"]
    assert weird_row["download_count"] is None and weird_row["tags"] == ["language:en"]
    assert "\x00" not in weird_row["description"] and len(weird_row["description"]) <= 20_000
    logs = run_log_text(dagster_instance, result.run_id)
    assert "Skipped malformed Hub item bad/date" in logs  # logged with its id
    assert "Skipped malformed Hub item <no id>: missing or invalid 'id'" in logs


@pytest.mark.slow
def test_a_single_429_is_retried_by_the_library_and_the_run_succeeds(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(day_items(DAY, 30))
    fake_hub.fail_next(429, times=1, headers={"Retry-After": "0"})  # retried by huggingface_hub
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10")
    assert result.success and store.count_datasets() == 30
    assert len(fake_hub.api_requests) == 2


def test_failure_after_first_page_keeps_the_first_page(database_url, fake_hub):
    import pytest

    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
    from dataset_catalog.errors import SourceUnavailableError
    from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets

    fake_hub.set_items(day_items(DAY, 25))
    listing = HuggingFaceResource(endpoint=fake_hub.url, page_size=10).listing()
    store = CatalogResource(database_url=database_url).get_store()
    pages = listing.pages()
    first = next(pages)
    fake_hub.fail_next(404, times=1)  # not retried: fails at once

    def rest():
        yield first
        yield from pages

    with pytest.raises(SourceUnavailableError, match="HTTP 404"):
        sync_hf_datasets(rest(), store, SyncWindow(DAY, DAY + timedelta(days=1)), batch_size=4)
    assert store.count_datasets() == 10


def test_fetching_ahead_never_requests_a_page_the_walk_does_not_need(database_url, fake_hub):
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
    from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets

    # 25 items in the window, then older ones: pages of 10 -> the walk ends inside page 3.
    fake_hub.set_items(day_items(DAY, 25) + day_items(DAY - timedelta(days=3), 70))
    store = CatalogResource(database_url=database_url).get_store()
    window = SyncWindow(DAY, DAY + timedelta(days=1))
    listing = HuggingFaceResource(endpoint=fake_hub.url, page_size=10).listing()
    report = sync_hf_datasets(listing.pages(), store, window, batch_size=4)
    assert (report.load.loaded, report.pages_read, len(fake_hub.api_requests)) == (25, 3, 3)

    fake_hub.requests.clear()
    listing = HuggingFaceResource(endpoint=fake_hub.url, page_size=10).listing()
    report = sync_hf_datasets(listing.pages(), store, window, limit=15, batch_size=4)
    assert (report.load.loaded, len(fake_hub.api_requests)) == (15, 2)


def test_progress_is_logged_on_the_first_and_last_page_and_at_most_every_few_seconds(
    database_url, fake_hub, monkeypatch
):
    from dataset_catalog.catalog import loader
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
    from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets

    class Clock:  # one second passes at every look at the loader's clock
        now = 0.0

        def monotonic(self):
            self.now += 1.0
            return self.now

    monkeypatch.setattr(loader, "time", Clock())

    class Lines:
        def __init__(self):
            self.info_lines: list[str] = []

        def info(self, message):
            self.info_lines.append(message)

        warning = info

    fake_hub.set_items(day_items(DAY, 60))
    log = Lines()
    listing = HuggingFaceResource(endpoint=fake_hub.url, page_size=5).listing()
    report = sync_hf_datasets(
        listing.pages(), CatalogResource(database_url=database_url).get_store(), SyncWindow(None, None), log=log
    )
    progress = [line for line in log.info_lines if line.startswith("Page ")]
    # Every log line is an event in Dagster's event log: not one a page, but the first page, then
    # one whenever PROGRESS_LOG_SECONDS (5) have passed, then the last page after every commit.
    assert report.pages_read == 12
    assert [int(line.split(":")[0].removeprefix("Page ")) for line in progress] == [1, 6, 11, 12]
    assert progress[0].startswith("Page 1: scanned 5 items")
    assert progress[-1] == "Page 12: scanned 60 items, 60 in window so far, 60 committed, 0 malformed"


def test_a_one_page_run_logs_its_committed_rows_last(database_url, store, fake_hub, run_hf, dagster_instance):
    """Its log ended at "Page 1: ... 0 committed": the line after the commits was skipped."""
    fake_hub.set_items(day_items(DAY, 3))
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", instance=dagster_instance)
    progress = [line for line in run_log_text(dagster_instance, result.run_id).splitlines() if line.startswith("Page ")]
    assert progress[-1] == "Page 1: scanned 3 items, 3 in window so far, 3 committed, 0 malformed"


def test_a_lone_surrogate_in_an_id_makes_the_item_malformed():
    import pytest

    from dataset_catalog.huggingface.mapping import MalformedItem, map_item

    item = make_hub_item("org/ok", DAY)
    item["id"] = "org/bad\ud800id"  # what json.loads makes of a broken "\\ud800" escape
    with pytest.raises(MalformedItem, match="'id'"):
        map_item(item)


def test_items_with_a_bad_id_do_not_count_towards_the_limit_when_fetching_ahead():
    from dataset_catalog.huggingface.sync import SyncWindow, _NextPageNeeded

    at = (DAY + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    good, bad_id = {"id": "org/good", "lastModified": at}, {"id": 12345, "lastModified": at}
    needed = _NextPageNeeded(SyncWindow(DAY, DAY + timedelta(days=1)), limit=2)
    # One usable item of two: the walk (limit 2) goes on, so the next page must be fetched.
    assert needed([good, bad_id]) is True
    # A bad item older than the window does not end the walk either (map_item skips it).
    old_bad = {"id": None, "lastModified": (DAY - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    assert _NextPageNeeded(SyncWindow(DAY, None), limit=None)([good, old_bad]) is True


def test_a_reversed_partition_range_fails_at_once_saying_what_to_give(database_url, store, fake_hub, run_hf):
    """It walked the listing down to 11-20, then crashed with IndexError on an empty list of partitions."""
    fake_hub.set_items(day_items(DAY, 3))
    with pytest.raises(UnknownPartitionError) as refused:  # before any run exists (the CLI prints one line)
        run_hf(database_url, fake_hub.url, partition_range=("2025-03-10", "2025-03-01"))
    assert str(refused.value).startswith(
        "Partition range 2025-03-10...2025-03-01 is reversed: its start is after its end. "
        "Give START...END with START <= END, days written YYYY-MM-DD (UTC) from "
    )
    assert fake_hub.api_requests == [] and store.count_datasets() == 0
