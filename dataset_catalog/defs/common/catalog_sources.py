"""The assets that write source rows into the catalog, found in the source folders themselves.

A source folder under defs/ names its catalog-writing assets in `CATALOG_SOURCE_ASSETS` in its
`__init__.py`. The catalog-wide assets (embeddings, the link janitor) depend on all of them, so
a new source folder shows up upstream of them without an edit anywhere else. Only the folders'
`__init__` modules are imported here, so no asset module is imported before its turn.
"""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import dataset_catalog.defs as defs_package


def catalog_source_asset_keys() -> list[dg.AssetKey]:
    keys = []
    for folder in sorted(m.name for m in pkgutil.iter_modules(defs_package.__path__) if m.ispkg):
        package = importlib.import_module(f"{defs_package.__name__}.{folder}")
        keys += [dg.AssetKey(name) for name in getattr(package, "CATALOG_SOURCE_ASSETS", ())]
    return keys
