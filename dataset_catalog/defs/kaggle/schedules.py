"""Kaggle schedules: enrichment hourly, latest datasets daily. The seed runs on demand."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets, kaggle_latest_datasets

# The run tag meets the instance config's tag_concurrency_limits (dagster.yaml, deploy/dagster.yaml):
# one Kaggle run at a time.
KAGGLE_RUN_TAGS = {"dataset_catalog/source": "kaggle"}

kaggle_enrichment_job = dg.define_asset_job(
    "kaggle_enrichment_job", selection=[kaggle_enriched_datasets], tags=KAGGLE_RUN_TAGS
)
kaggle_latest_job = dg.define_asset_job("kaggle_latest_job", selection=[kaggle_latest_datasets], tags=KAGGLE_RUN_TAGS)

# At 1 req/s a batch of 50 takes about 2 minutes; hourly leaves the API idle most of the time.
kaggle_enrichment_hourly_schedule = dg.ScheduleDefinition(
    name="kaggle_enrichment_hourly",
    cron_schedule="15 * * * *",
    target=kaggle_enrichment_job,
    execution_timezone="UTC",
)
# Daily, sort_by=updated (the run config default): yesterday's new and changed datasets.
kaggle_latest_daily_schedule = dg.ScheduleDefinition(
    name="kaggle_latest_daily",
    cron_schedule="0 2 * * *",
    target=kaggle_latest_job,
    execution_timezone="UTC",
)
