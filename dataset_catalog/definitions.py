"""The code location: every asset, check, resource and schedule of dataset_catalog."""

import dagster as dg

from dataset_catalog.catalog.resource import CatalogResource
from dataset_catalog.embeddings import assets as embedding_assets, resource as embedding_resource, schedules as embedding_schedules
from dataset_catalog.huggingface.assets import hf_datasets
from dataset_catalog.huggingface.client import HuggingFaceResource
from dataset_catalog.huggingface.schedules import hf_datasets_daily_schedule, hf_datasets_job
from dataset_catalog.kaggle import assets as kaggle_assets, schedules as kaggle_schedules
from dataset_catalog.kaggle.client import KaggleResource
from dataset_catalog.kaggle.seed_asset import kaggle_seeded_datasets
from dataset_catalog.maintenance import assets as maintenance, checks as maintenance_checks
from dataset_catalog.maintenance import schedules as maintenance_schedules

defs = dg.Definitions(
    assets=[
        hf_datasets,
        kaggle_seeded_datasets,
        kaggle_assets.kaggle_enriched_datasets,
        kaggle_assets.kaggle_latest_datasets,
        maintenance.dataset_link_status,
        maintenance.remove_old_cache,
        embedding_assets.dataset_embeddings,
    ],
    asset_checks=[
        *maintenance_checks.hf_checks,
        *maintenance_checks.kaggle_checks(),
        maintenance_checks.embedding_coverage_check(embedding_assets.dataset_embeddings),
    ],
    jobs=[
        hf_datasets_job,
        kaggle_schedules.kaggle_enrichment_job,
        kaggle_schedules.kaggle_latest_job,
        *maintenance_schedules.maintenance_jobs,
        embedding_schedules.dataset_embeddings_job,
    ],
    schedules=[
        hf_datasets_daily_schedule,
        kaggle_schedules.kaggle_enrichment_hourly_schedule,
        kaggle_schedules.kaggle_latest_daily_schedule,
        *maintenance_schedules.maintenance_schedules,
        embedding_schedules.dataset_embeddings_schedule,
    ],
    resources={
        "catalog": CatalogResource(),
        "huggingface": HuggingFaceResource(),
        "kaggle": KaggleResource(),
        "embedding_model": embedding_resource.EmbeddingModelResource(),
    },
)
