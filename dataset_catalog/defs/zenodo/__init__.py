"""Zenodo: the `zenodo_datasets` asset, its resource, partitions, schedule and checks."""

# The assets of this folder that write source rows into the catalog (common/catalog_sources.py).
CATALOG_SOURCE_ASSETS = ("zenodo_datasets",)
