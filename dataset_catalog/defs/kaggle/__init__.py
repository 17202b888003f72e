"""Kaggle: the seed, enrichment and latest-datasets assets, the paced API resource, schedules, checks."""

# The assets of this folder that write source rows into the catalog (common/catalog_sources.py).
CATALOG_SOURCE_ASSETS = ("kaggle_seeded_datasets", "kaggle_enriched_datasets", "kaggle_latest_datasets")
