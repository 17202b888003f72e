"""Daily harvest of yesterday's Zenodo partition."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.common.catalog_asset import SOURCE_TAG
from dataset_catalog.defs.zenodo.assets import zenodo_datasets

zenodo_datasets_job = dg.define_asset_job(
    "zenodo_datasets_job", selection=[zenodo_datasets], tags={SOURCE_TAG: "zenodo"}
)

# 01:30 UTC: the previous UTC day is complete. Off by default: an operator turns syncs on.
zenodo_datasets_daily_schedule = dg.build_schedule_from_partitioned_job(
    zenodo_datasets_job,
    hour_of_day=1,
    minute_of_hour=30,
    name="zenodo_datasets_daily",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
