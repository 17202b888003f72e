"""Daily sync of yesterday's Hub partition."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.huggingface.assets import hf_datasets

hf_datasets_job = dg.define_asset_job("hf_datasets_job", selection=[hf_datasets])

# 00:30 UTC: the previous UTC day is complete. Off by default: an operator turns syncs on.
hf_datasets_daily_schedule = dg.build_schedule_from_partitioned_job(
    hf_datasets_job, hour_of_day=0, minute_of_hour=30, name="hf_datasets_daily"
)
