"""OpenML: the `openml_datasets` asset, its paced API resource, the weekly schedule and checks."""

# The assets of this folder that write source rows into the catalog (common/catalog_sources.py).
CATALOG_SOURCE_ASSETS = ("openml_datasets",)
