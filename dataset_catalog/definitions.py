"""The code location: every asset, resource and schedule of dataset_catalog."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.catalog.resource import CatalogResource
from dataset_catalog.embeddings import assets as embedding_assets, resource as embedding_resource, schedules as embedding_schedules
from dataset_catalog.huggingface.assets import hf_datasets
from dataset_catalog.huggingface.client import HuggingFaceResource
from dataset_catalog.huggingface.schedules import hf_datasets_daily_schedule, hf_datasets_job

defs = dg.Definitions(
    assets=[hf_datasets, embedding_assets.dataset_embeddings],
    jobs=[hf_datasets_job, embedding_schedules.dataset_embeddings_job],
    schedules=[hf_datasets_daily_schedule, embedding_schedules.dataset_embeddings_schedule],
    resources={
        "catalog": CatalogResource(),
        "huggingface": HuggingFaceResource(),
        "embedding_model": embedding_resource.EmbeddingModelResource(),
    },
)
