"""The catalog store: the one place that writes SQL."""

from dataset_catalog.catalog.store import CatalogStore, UpsertCounts

__all__ = ["CatalogStore", "UpsertCounts"]
