"""CatalogResource: hands assets a CatalogStore for the configured database."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.catalog.store import CatalogStore


class CatalogResource(dg.ConfigurableResource):
    """The catalog database.

    `database_url` is normally left unset: the URL then comes from the environment
    (`DATASET_CATALOG_DATABASE_URL`, else the embedded SQLite file), so a password in it
    never shows up in the run config the UI displays.
    """

    database_url: str | None = None

    def get_store(self) -> CatalogStore:
        return CatalogStore(self.database_url).ensure_schema()
