"""The Kaggle API assets, resource and schedules load in the code location as documented."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.definitions import defs
from dataset_catalog.kaggle.client import KaggleResource


def test_kaggle_objects_are_wired_into_the_code_location():
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    for name in ("kaggle_enriched_datasets", "kaggle_latest_datasets"):
        node = graph.get(dg.AssetKey(name))
        assert node.pools == {"kaggle_api"}, name
    assert dg.AssetKey("kaggle_seeded_datasets") in graph.get(dg.AssetKey("kaggle_enriched_datasets")).parent_keys
    assert isinstance(defs.resources["kaggle"], KaggleResource)
    assert defs.resources["kaggle"].requests_per_second == 1.0
    schedules = {s.name: s for s in repo.schedule_defs}
    assert schedules["kaggle_enrichment_hourly"].cron_schedule == "15 * * * *"
    assert schedules["kaggle_latest_daily"].cron_schedule == "0 2 * * *"
    for name in ("kaggle_enrichment_job", "kaggle_latest_job"):
        assert repo.get_job(name).tags["dataset_catalog/source"] == "kaggle"
