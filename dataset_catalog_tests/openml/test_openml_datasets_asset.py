"""`openml_datasets` against the fake OpenML API, on SQLite and PostgreSQL: rows, re-runs, changes,
deactivation, malformed records, failures and secrecy, judged by rows, metadata and the requests
the fake received."""

from __future__ import annotations

import pytest

from dataset_catalog_tests.fakes.openml_api import FakeDataset, make_datasets
from dataset_catalog_tests.openml.conftest import failure_text, materialize_openml, metadata_of, run_log_text

KEY = "omlkey_SuperSecret_0123456789abcdef"


def rows_by_id(store) -> dict[str, dict]:
    return {r["external_id"]: r for r in store.fetch_datasets("openml")}


def test_first_run_writes_every_active_dataset_with_its_fields(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(12))
    fake_openml.add(
        FakeDataset(
            13,
            "housing",
            version=2,
            description="<p>Boston <b>house</b> prices.</p>\n\n## Source\nUCI.",
            licence="CC0",
            creator=["Harrison, D.", "Rubinfeld, D.L."],
            default_target="MEDV",
            tags=["regression", "uci"],
            columns=[("CRIM", "numeric"), ("CHAS", "nominal"), ("MEDV", "numeric")],
            instances=506,
            classes=0,
            missing=7,
        )
    )
    fake_openml.add(FakeDataset(14, "gone-before", status="deactivated"))
    result = materialize_openml(database_url, fake_openml.url, page_size=5)
    assert result.success
    rows = rows_by_id(store)
    assert set(rows) == {str(i) for i in range(1, 14)}  # a deactivated dataset we never had is not added
    housing = rows["13"]
    assert (housing["title"], housing["subtitle"], housing["url"]) == (
        "housing",
        "Version 2",
        "https://www.openml.org/d/13",
    )
    assert housing["description"] == "Boston house prices.\n\nUCI."  # markup removed
    assert (housing["license"], housing["row_count"], housing["column_names"]) == ("CC0", 506, ["CRIM", "CHAS", "MEDV"])
    assert housing["tags"] == ["regression", "uci"] and housing["task_categories"] == ["tabular-regression"]
    assert housing["file_formats"] == ["arff", "parquet"] and housing["is_active"] is True
    assert housing["source_created_at"].isoformat().startswith("2014-04-06T23:19:24")
    assert housing["creators"] == [{"name": "Harrison, D., Rubinfeld, D.L.", "kind": "person"}]
    meta = housing["source_meta"]
    assert meta["default_target_attribute"] == "MEDV"
    assert (meta["number_of_features"], meta["number_of_classes"], meta["number_of_missing_values"]) == (3, 0, 7)
    assert (meta["version_number"], meta["md5_checksum"]) == (2, fake_openml.datasets[13].md5)
    assert rows["1"]["task_categories"] == ["tabular-classification"] and rows["1"]["tags"] == ["uci"]
    metadata = metadata_of(result)
    assert (metadata["datasets_listed"], metadata["details_fetched"], metadata["total_inserted"]) == (14, 13, 13)
    assert (metadata["pages_read"], metadata["list_requests"], metadata["detail_requests"]) == (3, 4, 26)
    assert metadata["new_inactive_skipped"] == 1 and metadata["dagster/row_count"] == 13
    # Qualities came with the listing: no data/qualities call was needed.
    assert not [r for r in fake_openml.requests if "/qualities/" in r.path]


def test_a_rerun_with_nothing_changed_makes_no_detail_call_and_writes_nothing(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(30))
    assert materialize_openml(database_url, fake_openml.url, page_size=10).success
    before = {k: r["updated_at"] for k, r in rows_by_id(store).items()}
    fake_openml.requests.clear()
    result = materialize_openml(database_url, fake_openml.url, page_size=10)
    assert result.success
    assert fake_openml.detail_requests == []  # ZERO detail calls
    assert len(fake_openml.list_requests) == 4  # 3 pages + the 412 past the end
    assert {k: r["updated_at"] for k, r in rows_by_id(store).items()} == before
    metadata = metadata_of(result)
    assert (metadata["total_unchanged"], metadata["total_inserted"], metadata["total_updated"]) == (30, 0, 0)
    assert (metadata["requests"], metadata["detail_requests"]) == (4, 0)


def test_changed_md5_or_version_is_refetched_and_only_that(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(8))
    assert materialize_openml(database_url, fake_openml.url).success
    fake_openml.requests.clear()
    fake_openml.datasets[3].data_revision = 1  # a re-uploaded file: new md5
    fake_openml.datasets[3].description = "New text."
    fake_openml.datasets[5].version = 2
    fake_openml.datasets[5].instances = 999  # listing qualities change along
    fake_openml.add(FakeDataset(9, "brand-new"))
    result = materialize_openml(database_url, fake_openml.url)
    assert result.success
    fetched = sorted({r.path.rsplit("/", 1)[-1] for r in fake_openml.detail_requests}, key=int)
    assert fetched == ["3", "5", "9"]
    rows = rows_by_id(store)
    assert (
        rows["3"]["description"] == "New text."
        and rows["3"]["source_meta"]["md5_checksum"] == fake_openml.datasets[3].md5
    )
    assert (rows["5"]["subtitle"], rows["5"]["row_count"]) == ("Version 2", 999)
    metadata = metadata_of(result)
    assert (metadata["total_inserted"], metadata["total_updated"], metadata["total_unchanged"]) == (1, 2, 6)


def test_a_listing_only_change_is_written_without_detail_calls(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(3))
    assert materialize_openml(database_url, fake_openml.url).success
    fake_openml.requests.clear()
    fake_openml.datasets[2].missing = 42  # qualities recomputed by OpenML, same file
    fake_openml.datasets[2].tags = ["uci", "study_14"]
    result = materialize_openml(database_url, fake_openml.url)
    assert result.success and fake_openml.detail_requests == []
    row = rows_by_id(store)["2"]
    assert row["source_meta"]["number_of_missing_values"] == 42 and "study_14" in row["tags"]
    assert metadata_of(result)["total_updated"] == 1


def test_deactivated_datasets_become_inactive_rows_and_come_back(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(4))
    assert materialize_openml(database_url, fake_openml.url).success
    fake_openml.requests.clear()
    fake_openml.datasets[2].status = "deactivated"
    fake_openml.datasets[4].status = "in_preparation"
    result = materialize_openml(database_url, fake_openml.url)
    assert result.success and fake_openml.detail_requests == []
    rows = rows_by_id(store)
    assert {k: r["is_active"] for k, r in rows.items()} == {"1": True, "2": False, "3": True, "4": False}
    assert rows["2"]["description"] == "A tabular dataset for tests."  # kept: only the state changed
    assert metadata_of(result)["deactivated"] == 2
    fake_openml.datasets[2].status = "active"
    result = materialize_openml(database_url, fake_openml.url)
    assert rows_by_id(store)["2"]["is_active"] is True and metadata_of(result)["reactivated"] == 1
    assert fake_openml.detail_requests == []  # same version and md5: the stored details serve


def test_datasets_gone_from_the_listing_become_inactive_once_confirmed_by_id(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(5))
    assert materialize_openml(database_url, fake_openml.url, page_size=2).success
    del fake_openml.datasets[2]  # removed from OpenML altogether
    fake_openml.left_out_of_pages = {4}  # a listing that came back short: 4 still exists
    fake_openml.requests.clear()
    result = materialize_openml(database_url, fake_openml.url, page_size=2)
    assert result.success
    assert {k: r["is_active"] for k, r in rows_by_id(store).items()} == {
        "1": True,
        "2": False,
        "3": True,
        "4": True,
        "5": True,
    }
    assert rows_by_id(store)["2"]["title"] == "dataset-2"  # its text is kept
    assert metadata_of(result)["gone_from_listing"] == 1
    by_id = [r.path for r in fake_openml.list_requests if "/data_id/" in r.path]
    assert len(by_id) == 1 and by_id[0].endswith("/data_id/2,4")
    assert fake_openml.detail_requests == []


def test_malformed_records_are_skipped_and_counted(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(5))
    for bad in ({"did": "x", "name": "bad id"}, {"did": 77}, "not an object", {"did": -3, "name": "neg"}):
        fake_openml.add_raw_listing_item(bad)
    fake_openml.raw_bodies["data/4"] = b"{not json"  # a malformed detail answer
    fake_openml.raw_bodies["data/features/5"] = b'{"unexpected": 1}'
    result = materialize_openml(database_url, fake_openml.url, page_size=3)
    assert result.success
    assert set(rows_by_id(store)) == {"1", "2", "3"}
    metadata = metadata_of(result)
    assert metadata["skipped_malformed"] == 4 and len(metadata["malformed_samples"]) == 4
    assert "missing or invalid 'name'" in " ".join(metadata["malformed_samples"])
    assert metadata["detail_errors"] == 2
    assert any("malformed JSON" in s for s in metadata["detail_error_samples"])
    # The next run retries the two whose details failed, and only them.
    del fake_openml.raw_bodies["data/4"], fake_openml.raw_bodies["data/features/5"]
    fake_openml.requests.clear()
    assert materialize_openml(database_url, fake_openml.url).success
    assert set(rows_by_id(store)) == {"1", "2", "3", "4", "5"}
    assert sorted({r.path.rsplit("/", 1)[-1] for r in fake_openml.detail_requests}) == ["4", "5"]


def test_qualities_are_fetched_when_the_listing_has_none(database_url, store, fake_openml):
    fake_openml.add(FakeDataset(1, "bare", list_qualities=False, instances=321))
    assert materialize_openml(database_url, fake_openml.url).success
    assert [r.path for r in fake_openml.detail_requests] == [
        "/api/v1/json/data/1",
        "/api/v1/json/data/features/1",
        "/api/v1/json/data/qualities/1",
    ]
    assert rows_by_id(store)["1"]["row_count"] == 321


def test_persistent_5xx_fails_cleanly_keeping_committed_batches(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(10))
    fake_openml.fail_next(503, times=3, path_part="/data/7")  # 1 try + 2 retries, all 503
    result = materialize_openml(database_url, fake_openml.url, max_retries=2, config={"batch_size": 4})
    assert not result.success
    assert "failed after 3 tries (HTTP 503)" in failure_text(
        result
    ) and "rows already written are kept" in failure_text(result)
    # The first batch (1-4) was committed; 5 and 6, already fetched, are written before the run fails.
    assert set(rows_by_id(store)) == {"1", "2", "3", "4", "5", "6"}
    fake_openml.requests.clear()
    assert materialize_openml(database_url, fake_openml.url).success
    assert set(rows_by_id(store)) == {str(i) for i in range(1, 11)}
    assert sorted({int(r.path.rsplit("/", 1)[-1]) for r in fake_openml.detail_requests}) == [7, 8, 9, 10]


def test_transient_5xx_and_429_are_absorbed(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(3))
    fake_openml.fail_next(500, path_part="data/list")
    fake_openml.fail_next(429, headers={"Retry-After": "0.2"}, path_part="/data/2")
    result = materialize_openml(database_url, fake_openml.url)
    assert result.success and len(rows_by_id(store)) == 3
    metadata = metadata_of(result)
    assert (metadata["retries"], metadata["rate_limited"]) == (2, 1)


def test_max_detail_fetches_defers_the_rest_to_the_next_run(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(5))
    result = materialize_openml(database_url, fake_openml.url, config={"max_detail_fetches": 2})
    assert result.success and set(rows_by_id(store)) == {"1", "2"}
    assert metadata_of(result)["deferred"] == 3 and "left for the next run" in metadata_of(result)["stop_reason"]
    assert materialize_openml(database_url, fake_openml.url).success and len(rows_by_id(store)) == 5


def test_the_api_key_is_never_logged_stored_or_shown(database_url, store, fake_openml, dagster_instance, capfd):
    fake_openml.add(*make_datasets(3))
    fake_openml.required_api_key = KEY
    result = materialize_openml(database_url, fake_openml.url, api_key=KEY, instance=dagster_instance)
    assert result.success
    assert all(r.query["api_key"] == [KEY] for r in fake_openml.requests)
    assert KEY not in repr(metadata_of(result)) and KEY not in run_log_text(dagster_instance, result.run_id)
    fake_openml.fail_next(503, times=2)  # a failure's message must not echo it either
    failed = materialize_openml(database_url, fake_openml.url, api_key=KEY, max_retries=1, instance=dagster_instance)
    assert not failed.success and KEY not in failure_text(failed)
    rejected = materialize_openml(database_url, fake_openml.url, api_key="wrong-key-123", instance=dagster_instance)
    assert "check OPENML_API_KEY" in failure_text(rejected) and "wrong-key-123" not in failure_text(rejected)
    for run in (failed, rejected):
        assert KEY not in run_log_text(dagster_instance, run.run_id)
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err and KEY not in repr(store.fetch_datasets())


@pytest.mark.slow
def test_a_normal_run_obeys_the_default_pace_with_no_429(database_url, store, fake_openml):
    from dataset_catalog_tests.kaggle.conftest import assert_paced
    from dataset_catalog_tests.openml.conftest import max_requests_in_any_second

    fake_openml.add(*make_datasets(3))
    result = materialize_openml(database_url, fake_openml.url, requests_per_second=2.0)  # the default pace
    assert result.success and len(fake_openml.requests) == 8  # 2 listing calls + 3 x 2 detail calls
    assert_paced(fake_openml.requests, 2.0)
    assert max_requests_in_any_second(fake_openml.requests) <= 2
    assert 429 not in fake_openml.answered and metadata_of(result)["rate_limited"] == 0
