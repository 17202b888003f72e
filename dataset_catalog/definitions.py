"""The code location: every asset, resource and schedule of dataset_catalog."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.catalog.resource import CatalogResource
from dataset_catalog.huggingface.assets import hf_datasets
from dataset_catalog.huggingface.client import HuggingFaceResource
from dataset_catalog.huggingface.schedules import hf_datasets_daily_schedule, hf_datasets_job
from dataset_catalog.maintenance import assets as maintenance, checks as maintenance_checks, schedules as maintenance_schedules

defs = dg.Definitions(
    assets=[hf_datasets, maintenance.dataset_link_status, maintenance.remove_old_cache],
    asset_checks=[*maintenance_checks.hf_checks],
    jobs=[hf_datasets_job, *maintenance_schedules.maintenance_jobs],
    schedules=[hf_datasets_daily_schedule, *maintenance_schedules.maintenance_schedules],
    resources={
        "catalog": CatalogResource(),
        "huggingface": HuggingFaceResource(),
    },
)
