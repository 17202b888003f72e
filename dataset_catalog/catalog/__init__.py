"""The catalog database: the one owner of SQL and of the differences between SQLite and PostgreSQL.

`CatalogStore` opens a database ready to use; source rows enter through its `upsert_datasets`
(catalog/upserts.py states the rule). The other modules hold the SQL of one thing each, named
for it: the keyword index, the vector store, the enrichment queue and log, link state,
integrity queries, the catalog summary.
"""

from dataset_catalog.catalog.staged_upserts import StagedRows
from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.upserts import UpsertCounts

__all__ = ["CatalogStore", "StagedRows", "UpsertCounts"]
