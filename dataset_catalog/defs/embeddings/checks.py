"""Check of `dataset_embeddings`: the share of active rows that have a vector."""

from dataset_catalog.defs.common.checks import embedding_coverage_check
from dataset_catalog.defs.embeddings.assets import dataset_embeddings

embedding_coverage = embedding_coverage_check(dataset_embeddings)
