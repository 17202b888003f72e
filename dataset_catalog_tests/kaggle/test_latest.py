"""Phase 3 `kaggle_latest_datasets` on SQLite and PostgreSQL, against the fake Kaggle API."""

from __future__ import annotations

import dagster as dg
import pytest

from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets, kaggle_latest_datasets
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog_tests.fakes.kaggle_api import make_datasets


def materialize(assets, database_url, resource: KaggleResource, raise_on_error=True, **config):
    return dg.materialize(
        assets,
        resources={"kaggle": resource, "catalog": CatalogResource(database_url=database_url)},
        run_config=dg.RunConfig(ops={a.op.name: {"config": config.get(a.op.name, {})} for a in assets}),
        raise_on_error=raise_on_error,
    )


def metadata_of(result, name="kaggle_latest_datasets") -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(name)[0].metadata.items()}


def test_new_refs_arrive_pending_and_enriched_rows_keep_their_enrichment(
    database_url, store, kaggle_resource, kaggle_env
):
    made = make_datasets(kaggle_env, 4)
    # Two of them known and enriched already.
    materialize(
        [kaggle_latest_datasets], database_url, kaggle_resource, kaggle_latest_datasets={"sort_by": "votes", "limit": 2}
    )
    materialize([kaggle_enriched_datasets], database_url, kaggle_resource)
    before = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}
    assert {r["enrichment_status"] for r in before.values()} == {"enriched"}
    kaggle_env.datasets[made[0].ref].votes = 5000
    kaggle_env.datasets[made[0].ref].downloads = 77_777

    result = materialize(
        [kaggle_latest_datasets], database_url, kaggle_resource, kaggle_latest_datasets={"sort_by": "votes", "limit": 4}
    )

    meta = metadata_of(result)
    assert (meta["total_inserted"], meta["total_updated"], meta["total_unchanged"]) == (2, 1, 1)
    rows = {r["external_id"]: r for r in store.fetch_datasets("kaggle")}
    assert set(rows) == {d.ref for d in made}
    top = rows[made[0].ref]
    assert (top["like_count"], top["download_count"]) == (5000, 77_777)
    for key in (
        "enrichment_status",
        "description",
        "column_names",
        "file_formats",
        "files",
        "last_enriched_at",
        "enrichment_attempts",
        "source_meta",
    ):
        assert top[key] == before[made[0].ref][key], key
    new = rows[made[3].ref]
    assert (new["enrichment_status"], new["title"], new["url"]) == (
        "pending",
        "Dataset 3",
        f"https://www.kaggle.com/datasets/{made[3].ref}",
    )
    assert new["tags"] == ["tabular", "topic-3"] and new["license"] == "CC0: Public Domain"
    assert new["source_updated_at"].replace(tzinfo=None).isoformat() == "2025-01-01T03:00:00"
    assert new["is_active"] is True and new["column_names"] is None
    assert new["creators"] == [{"name": made[3].owner, "kind": "person"}] and new["files"] is None
    assert (new["load_code"], new["load_language"]) == (f"kaggle datasets download -d {made[3].ref}", "shell")


def test_pages_until_the_limit_in_the_requested_order(database_url, store, kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 130)
    result = materialize([kaggle_latest_datasets], database_url, kaggle_resource, kaggle_latest_datasets={"limit": 110})
    meta = metadata_of(result)
    assert (meta["total_inserted"], meta["pages_read"], meta["sort_by"]) == (110, 2, "updated")
    bodies = kaggle_env.bodies("ListDatasets")
    assert [(b["sortBy"], b["page"], b["pageSize"]) for b in bodies] == [
        ("DATASET_SORT_BY_UPDATED", p, 100) for p in (1, 2)
    ]
    # Newest lastUpdated first: datasets 129 .. 20.
    assert {r["external_id"] for r in store.fetch_datasets("kaggle")} == {
        f"owner{i % 3}/dataset-{i}" for i in range(20, 130)
    }


def test_hottest_is_sent_as_the_wire_default(database_url, kaggle_resource, kaggle_env):
    make_datasets(kaggle_env, 3)
    materialize(
        [kaggle_latest_datasets],
        database_url,
        kaggle_resource,
        kaggle_latest_datasets={"sort_by": "hottest", "limit": 1},
    )
    # kagglesdk omits enum defaults; HOTTEST is the default, so the fake applies it.
    assert kaggle_env.bodies("ListDatasets")[0].get("sortBy", "DATASET_SORT_BY_HOTTEST") == "DATASET_SORT_BY_HOTTEST"


def test_bad_sort_by_is_a_clear_error_before_any_call(database_url, kaggle_resource, kaggle_env):
    result = materialize(
        [kaggle_latest_datasets],
        database_url,
        kaggle_resource,
        raise_on_error=False,
        kaggle_latest_datasets={"sort_by": "newest"},
    )
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    while error.cause is not None:
        error = error.cause
    assert error.cls_name == "KaggleConfigError"
    assert "sort_by must be one of updated, hottest, votes; got 'newest'" in error.message
    assert kaggle_env.requests == []


@pytest.mark.parametrize("body", [b'{"datasets": "ten chars!"}', b'{"datasets": {"a": 1, "b": 2}}'])
def test_a_listing_of_the_wrong_shape_fails_the_run(database_url, store, kaggle_resource, kaggle_env, body):
    """kagglesdk reads these as items without a ref; they were 10 (or 2) skipped items and a success."""
    make_datasets(kaggle_env, 3)
    kaggle_env.listing_body = body
    result = materialize([kaggle_latest_datasets], database_url, kaggle_resource, raise_on_error=False)
    assert not result.success
    error = result.get_step_failure_events()[0].step_failure_data.error
    while error.cause is not None:
        error = error.cause
    assert error.cls_name == "KaggleResponseError" and "the response has the wrong shape" in error.message
    assert store.count_datasets() == 0
