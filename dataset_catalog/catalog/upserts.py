"""Writing source rows into the catalog: the one entry point and its rule.

Every source row enters through `CatalogStore.upsert_datasets`, keyed on (source, external_id),
one transaction per call, so rerunning anything, or killing it half way and rerunning, leaves
exactly the right rows. The rule, whatever the path:

- a new key is inserted with the columns given (and `insert_only` columns);
- a known key is updated only when a value it brings differs from the stored one, and then
  only the columns given are written (never `insert_only` ones, never the state columns that
  enrichment and link checks own); `updated_at` marks that write;
- a row that brings nothing new is not touched at all;
- languages are stored as ISO codes, whichever way a source names them.

What "differs" is judged on depends on how much the writer knows about its rows:

- dict rows (syncs, enrichment listings): by `sync_hash`, a hash of the values the row brings
  (or one the mapping computed more cheaply from its raw input, as the Hub mapping does). The
  CPU half (`prepare_upsert`: checks, hashes, bound parameters) needs no connection, so a long
  sync runs it while a child process runs the database half (`execute_upsert`;
  catalog/writer_process.py).
- StagedRows (bulk loads of database-ready tuples or CSV: the Meta Kaggle seed): by the values
  themselves, compared in the one merge statement (catalog/staged_upserts.py). Such a write
  clears `sync_hash`, which no longer describes the row, so the next dict upsert of it writes once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list, utcnow
from dataset_catalog.catalog.schema import SYNCED_COLUMNS, datasets
from dataset_catalog.catalog.staged_upserts import StagedRows, merge_staged
from dataset_catalog.catalog.upsert_statements import (
    KEY_COLUMNS,
    STORE_SET_TIMESTAMPS,
    PreparedUpsert,
    bind_converter,
    commit_without_waiting_for_wal_flush,
    upsert_statement,
    write_prepared_rows,
)
from dataset_catalog.common.languages import normalize_languages

if TYPE_CHECKING:
    from dataset_catalog.catalog.store import CatalogStore


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # (label, inserted, updated, unchanged) per group label, when the rows came with labels.
    by_group: tuple[tuple[str, int, int, int], ...] = ()

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        groups: dict[str, list[int]] = {}
        for label, *counts in (*self.by_group, *other.by_group):
            totals = groups.setdefault(label, [0, 0, 0])
            for i, n in enumerate(counts):
                totals[i] += n
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            tuple(sorted((label, *totals) for label, totals in groups.items())),
        )

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def groups(self) -> dict[str, UpsertCounts]:
        """The counts of each group label."""
        return {label: UpsertCounts(i, u, n) for label, i, u, n in self.by_group}


def upsert_datasets(
    store: CatalogStore,
    rows: Sequence[Mapping[str, Any]] | StagedRows,
    *,
    insert_only: Collection[str] = (),
    groups: Sequence[str] | None = None,
) -> UpsertCounts:
    """CatalogStore.upsert_datasets: dict rows by sync_hash, StagedRows by value (see above)."""
    if isinstance(rows, StagedRows):
        if groups is not None:
            raise ValueError("group labels are for dict rows")
        return UpsertCounts(*merge_staged(store, rows, insert_only))
    return execute_upsert(store, prepare_upsert(store.engine.dialect, rows, insert_only=insert_only, groups=groups))


_HASH_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def sync_hash(row: Mapping[str, Any]) -> str:
    """Stable hash of a row's synced values, so an identical re-sync is a no-op."""
    payload = {k: v for k, v in row.items() if k not in KEY_COLUMNS}
    return hashlib.sha256(orjson.dumps(payload, option=_HASH_OPTIONS, default=str)).hexdigest()


def prepare_upsert(
    dialect: sa.Dialect,
    rows: Sequence[Mapping[str, Any]],
    *,
    insert_only: Collection[str] = (),
    groups: Sequence[str] | None = None,
) -> list[PreparedUpsert]:
    """The CPU half of an upsert of dict rows, no connection needed: check, de-duplicate (last
    one wins), hash and bind the rows. The result is plain data that `execute_upsert` writes,
    here or in a writer process. `groups`, a label per row, makes the counts come per label too."""
    if groups is not None and len(groups) != len(rows):
        raise ValueError("one group label per row")
    latest: dict[tuple[str, str], tuple[Mapping[str, Any], str | None]] = {}
    for i, row in enumerate(rows):
        languages = row.get("languages")
        if languages:  # stored as ISO codes whatever the source wrote (common/languages.py)
            codes = normalize_languages(languages if isinstance(languages, list) else [languages])
            if codes != languages:
                row = {**row, "languages": codes}
        latest[(row["source"], row["external_id"])] = (row, groups[i] if groups is not None else None)
    by_shape: dict[frozenset[str], list[tuple[Mapping[str, Any], str | None]]] = {}
    for row, group in latest.values():
        by_shape.setdefault(frozenset(row), []).append((row, group))
    for shape in by_shape:
        if not shape <= SYNCED_COLUMNS:
            raise ValueError(f"upsert_datasets got columns it may not write: {sorted(shape - SYNCED_COLUMNS)}")
    to_timestamp_param = bind_converter(dialect, "created_at") or (lambda value: value)
    now_param = to_timestamp_param(utcnow())  # converted once per batch, not once per row
    insert_only = frozenset(insert_only)
    return [
        _prepare_shape(
            dialect,
            sorted(shape),
            [r for r, _ in labelled],
            insert_only,
            now_param,
            [g for _, g in labelled] if groups is not None else None,
        )
        for shape, labelled in by_shape.items()
    ]


def _prepare_shape(dialect, columns, rows, insert_only, now_param, groups) -> PreparedUpsert:
    if "sync_hash" in columns:
        hashes = [r["sync_hash"] for r in rows]
    else:
        hashed_columns = [c for c in columns if c not in insert_only]
        hashes = [sync_hash({c: r[c] for c in hashed_columns}) for r in rows]
    written = tuple(sorted({*columns, "sync_hash", *STORE_SET_TIMESTAMPS}))
    order, sql, bind = upsert_statement(dialect, written, insert_only)
    return PreparedUpsert(
        order,
        sql,
        [r["source"] for r in rows],
        [r["external_id"] for r in rows],
        hashes,
        [bind(r, h, now_param) for r, h in zip(rows, hashes)],
        groups,
    )


def execute_upsert(store: CatalogStore, batches: Sequence[PreparedUpsert]) -> UpsertCounts:
    """The database half: write prepared batches in one transaction. New rows are inserted,
    changed ones updated, unchanged ones (same sync_hash) left alone; returns the counts."""
    counts = UpsertCounts()
    if not any(b.params for b in batches):
        return counts
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            commit_without_waiting_for_wal_flush(conn)
        for batch in batches:
            counts += _execute_prepared(conn, batch)
    return counts


def _execute_prepared(conn: sa.Connection, batch: PreparedUpsert) -> UpsertCounts:
    existing: dict[tuple[str, str], str | None] = {}
    for source in set(batch.sources):
        ids = [e for s, e in zip(batch.sources, batch.external_ids) if s == source]
        found = conn.execute(
            sa.select(datasets.c.external_id, datasets.c.sync_hash).where(
                datasets.c.source == source, in_list(conn, datasets.c.external_id, ids)
            )
        )
        existing.update({(source, ext): h for ext, h in found})
    to_write, outcomes = [], []  # outcome per row: 0 inserted, 1 updated, 2 unchanged
    for key, row_hash, params in zip(zip(batch.sources, batch.external_ids), batch.sync_hashes, batch.params):
        outcome = 0 if key not in existing else 1 if existing[key] != row_hash else 2
        outcomes.append(outcome)
        if outcome != 2:
            to_write.append(params)
    if to_write:
        write_prepared_rows(conn, batch, to_write)
    by_group: dict[str, list[int]] = {}
    for group, outcome in zip(batch.groups or (), outcomes):
        by_group.setdefault(group, [0, 0, 0])[outcome] += 1
    return UpsertCounts(
        outcomes.count(0),
        outcomes.count(1),
        outcomes.count(2),
        tuple(sorted((group, *counts) for group, counts in by_group.items())),
    )
