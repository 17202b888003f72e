"""CatalogResource: the catalog database for a run's steps."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from dataset_catalog.catalog import CatalogStore


class CatalogResource(dg.ConfigurableResource):
    """The catalog database.

    `database_url` is normally left unset: the URL then comes from the environment
    (`DATASET_CATALOG_DATABASE_URL`, else the embedded SQLite file), so a password in it
    never shows up in the run config the UI displays.
    """

    database_url: str | None = None
    _store: CatalogStore | None = PrivateAttr(default=None)

    def get_store(self) -> CatalogStore:
        """The step's catalog store: opened (schema ready) on first use, closed when the step ends."""
        if self._store is None:
            self._store = CatalogStore(self.database_url)
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


defs = dg.Definitions(resources={"catalog": CatalogResource()})
