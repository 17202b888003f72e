"""The step the catalog writer runs for Zenodo: harvested versions merged into their works.

A batch is {concept record id: [its versions in this batch]}; each work's new versions are merged
with what the catalog stores of it (`source_meta`, mapping.merge_work) into its row. The loader
(catalog/loader.py) hands the batches to one writer, in order (catalog/writer_process.py: in a
child process, so the harvest keeps a second core busy), so each batch reads what the previous
one wrote: a work whose versions arrive in different batches, runs or partitions ends up with
the latest version's values and every version counted.
"""

from __future__ import annotations

from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.loader import Merge
from dataset_catalog.zenodo.mapping import SOURCE, merge_work, work_row


def work_rows(store: CatalogStore, pending: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of the batch's works, each merged with its stored state."""
    stored = store.source_meta_of(SOURCE, [str(concept) for concept in pending])
    rows = []
    for concept, versions in pending.items():
        meta = stored.get(str(concept))
        rows.append(work_row(merge_work(meta if isinstance(meta, dict) else None, versions)))
    return rows


def concept_of(version: dict[str, Any]) -> int:
    return version["concept_recid"]


WORKS = Merge(key=concept_of, rows=work_rows)
