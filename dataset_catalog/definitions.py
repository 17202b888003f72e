"""The code location: every asset, resource and schedule of dataset_catalog."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.catalog.resource import CatalogResource
from dataset_catalog.huggingface.assets import hf_datasets
from dataset_catalog.huggingface.client import HuggingFaceResource
from dataset_catalog.huggingface.schedules import hf_datasets_daily_schedule, hf_datasets_job
from dataset_catalog.kaggle import assets as kaggle_assets, client as kaggle_client, schedules as kaggle_schedules
from dataset_catalog.kaggle.seed_asset import kaggle_seeded_datasets

defs = dg.Definitions(
    assets=[
        hf_datasets,
        kaggle_seeded_datasets,
        kaggle_assets.kaggle_enriched_datasets,
        kaggle_assets.kaggle_latest_datasets,
    ],
    jobs=[hf_datasets_job, kaggle_schedules.kaggle_enrichment_job, kaggle_schedules.kaggle_latest_job],
    schedules=[
        hf_datasets_daily_schedule,
        kaggle_schedules.kaggle_enrichment_hourly_schedule,
        kaggle_schedules.kaggle_latest_daily_schedule,
    ],
    resources={
        "catalog": CatalogResource(),
        "huggingface": HuggingFaceResource(),
        "kaggle": kaggle_client.KaggleResource(),
    },
)
