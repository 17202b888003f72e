"""The OpenML folder's Dagster objects are wired as documented, and its checks judge real rows."""

import dagster as dg

from dataset_catalog.definitions import defs
from dataset_catalog.defs.common.catalog_sources import catalog_source_asset_keys
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.openml.assets import openml_datasets
from dataset_catalog.defs.openml.checks import openml_checks
from dataset_catalog.defs.openml.resources import OpenMLResource
from dataset_catalog_tests.fakes.openml_api import make_datasets
from dataset_catalog_tests.openml.conftest import FAST


def test_asset_pool_resource_schedule_and_source_registration():
    repository = defs.get_repository_def()
    node = repository.asset_graph.get(dg.AssetKey("openml_datasets"))
    assert node.pools == {"openml_api"} and node.tags["dataset_catalog/source"] == "openml"
    assert {"openml", "catalog"} <= set(node.assets_def.required_resource_keys)
    assert isinstance(defs.resources["openml"], OpenMLResource) and defs.resources["openml"].requests_per_second == 2.0
    assert dg.AssetKey("openml_datasets") in catalog_source_asset_keys()
    assert dg.AssetKey("openml_datasets") in repository.asset_graph.get(dg.AssetKey("dataset_embeddings")).parent_keys
    schedule = next(s for s in repository.schedule_defs if s.name == "openml_datasets_weekly")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 4 * * 1", "UTC")
    assert (schedule.default_status or dg.DefaultScheduleStatus.STOPPED) == dg.DefaultScheduleStatus.STOPPED
    assert repository.get_job("openml_datasets_job").tags["dataset_catalog/source"] == "openml"


def test_checks_pass_after_a_sync_and_catch_duplicates(database_url, store, fake_openml):
    fake_openml.add(*make_datasets(4))
    resources = {
        "catalog": CatalogResource(database_url=database_url),
        "openml": OpenMLResource(endpoint=fake_openml.url, **FAST),
    }
    result = dg.materialize([openml_datasets, *openml_checks], resources=resources)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"unique_external_ids", "active_rows_have_title_and_url", "freshness_check"}
    assert all(e.passed for e in evaluations.values())
    store.upsert_datasets(
        [{"source": "openml", "external_id": " 1 ", "title": "dup", "url": "https://www.openml.org/d/1"}]
    )
    result = dg.materialize([openml_datasets, *openml_checks], resources=resources, raise_on_error=False)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["unique_external_ids"].passed
