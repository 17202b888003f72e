"""Bulk upserts of many source rows at once: staged, then merged by one SQL statement.

`CatalogStore.upsert_datasets` takes a dict per row and hashes and binds it in Python; the
Meta Kaggle seed writes 500k rows from DuckDB, so it stages value tuples instead (SQLite:
executemany into a temp table; PostgreSQL: COPY) and merges them with one INSERT ... ON
CONFLICT per batch, in one transaction. Semantics match upsert_datasets: only the given columns
are written, `insert_only` values are set on insert and never overwritten, rows whose values are
unchanged are not touched. Changes are detected by comparing values, not `sync_hash`; rows written
here get `sync_hash` NULL so the next `upsert_datasets` of them always writes.

Producers hand values ready for the database: JSON columns as JSON text, timestamps as UTC text
in `timestamp_text_format(dialect)`, everything else as str/int/float/None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.schema import STATE_COLUMNS, datasets
from dataset_catalog.catalog.store import CatalogStore, UpsertCounts, utcnow
from dataset_catalog.catalog.upsert_statements import (
    KEY_COLUMNS,
    commit_without_waiting_for_wal_flush,
    copy_into_pg_stage,
)

_WRITABLE = frozenset(c.name for c in datasets.columns) - STATE_COLUMNS - {"sync_hash", "updated_at"}
_STAGE = "bulk_stage_datasets"
SQLITE_BULK_AUTOCHECKPOINT_PAGES = 100_000  # between checkpoints at most 1.6 GB of WAL with 16 KiB pages
_SQLITE_BULK_PRAGMAS = {"wal_autocheckpoint": SQLITE_BULK_AUTOCHECKPOINT_PAGES, "cache_size": -131072}  # 128 MiB


def timestamp_text_format(dialect: str) -> str:
    """strftime format of timestamp values: SQLAlchemy's own SQLite storage format, or ISO UTC."""
    return "%Y-%m-%d %H:%M:%S.%f" if dialect == "sqlite" else "%Y-%m-%d %H:%M:%S.%f+00"


def bulk_upsert_datasets(
    store: CatalogStore,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    constants: Mapping[str, Any] | None = None,
    insert_only: Mapping[str, Any] | None = None,
    merge_json: Mapping[str, Sequence[str]] | None = None,
) -> UpsertCounts:
    """Upsert `rows` (tuples in `columns` order, keyed on source + external_id) in one transaction.

    `constants` are written into every row (e.g. source); `insert_only` only into new rows.
    `merge_json` maps a JSON column to the top-level keys this writer owns: an update replaces
    those keys and keeps the others (e.g. source_meta keys written by enrichment).
    Within `rows` the last tuple of a key wins.
    """
    constants = dict(constants or {})
    columns = list(columns)
    _checked([*columns, *constants], insert_only)
    if not rows:
        return UpsertCounts()
    key_at = [columns.index(k) for k in KEY_COLUMNS if k in columns]
    if len(key_at) == 1 and len({row[key_at[0]] for row in rows}) == len(rows):
        staged = rows  # the usual case (e.g. refs made unique by the seed's SQL): no copy
    else:
        staged = list({tuple(row[i] for i in key_at): row for row in rows}.values())
    return _load(
        store,
        columns,
        lambda conn: _stage_rows(conn, store.dialect, columns, staged),
        insert_only,
        merge_json,
        constants=constants,
    )


def bulk_upsert_datasets_csv(
    store: CatalogStore,
    columns: Sequence[str],
    csv_data: bytes,
    *,
    insert_only: Mapping[str, Any] | None = None,
    merge_json: Mapping[str, Sequence[str]] | None = None,
) -> UpsertCounts:
    """PostgreSQL: like bulk_upsert_datasets, with the rows as CSV bytes streamed straight into COPY.

    RFC-4180 CSV without header, in `columns` order (which include source and external_id);
    an unquoted empty field is NULL. Keys must be unique within `csv_data`.
    """
    if store.dialect != "postgresql":
        raise ValueError("bulk_upsert_datasets_csv is for PostgreSQL; use bulk_upsert_datasets")
    names = _checked(list(columns), insert_only)
    if not csv_data:
        return UpsertCounts()
    return _load(store, names, lambda conn: _stage_csv(conn, names, csv_data), insert_only, merge_json)


def _checked(names: list[str], insert_only: Mapping[str, Any] | None) -> list[str]:
    unknown = (set(names) | set(insert_only or {})) - _WRITABLE
    if unknown or not set(KEY_COLUMNS) <= set(names):
        raise ValueError(f"bulk upsert: bad columns {sorted(unknown)} (need source and external_id)")
    return names


def _load(
    store: CatalogStore,
    names: list[str],
    stage: Callable[[sa.Connection], None],
    insert_only: Mapping[str, Any] | None,
    merge_json: Mapping[str, Sequence[str]] | None,
    *,
    constants: Mapping[str, Any] | None = None,
) -> UpsertCounts:
    store.ensure_schema()
    now = utcnow()
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            commit_without_waiting_for_wal_flush(conn)
        else:
            # Checkpointing the WAL at nearly every batch commit (the default: every 1000 pages)
            # rewrote the same index pages again and again: ~25% of the seed's SQLite time.
            # A bigger page cache keeps the indexes that grow at random places (e.g. by
            # source_updated_at) in memory: the merge of 488k new rows 2.9 -> 1.3-1.8 s.
            restore = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in _SQLITE_BULK_PRAGMAS}
            for pragma, value in _SQLITE_BULK_PRAGMAS.items():
                conn.exec_driver_sql(f"PRAGMA {pragma} = {value}")
        try:
            stage(conn)
            total, present = _existing(conn, dict(constants or {}))
            written = _merge(
                conn, store.dialect, names, dict(constants or {}), dict(insert_only or {}), dict(merge_json or {}), now
            )
            conn.commit()
        finally:  # also after an error: the pooled connection must not keep the bulk settings
            if store.dialect == "sqlite":
                conn.rollback()  # a no-op after the commit; ends a failed transaction
                for pragma, value in restore.items():
                    conn.exec_driver_sql(f"PRAGMA {pragma} = {int(value)}")
                conn.commit()
    # The merge writes new rows and changed ones (ON CONFLICT ... WHERE values differ).
    inserted = total - present
    return UpsertCounts(inserted, written - inserted, present - (written - inserted))


def _stage_rows(conn: sa.Connection, dialect: str, names: list[str], rows: list[tuple]) -> None:
    if dialect == "postgresql":
        copy_into_pg_stage(conn, _STAGE, names, rows)
    else:
        quoted = ", ".join(f'"{n}"' for n in names)
        dbapi = conn.connection.dbapi_connection
        conn.execute(sa.text("PRAGMA temp_store = MEMORY"))  # the stage is scratch (~20 MB a batch)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS temp.{_STAGE}"))
        conn.execute(sa.text(f"CREATE TEMP TABLE {_STAGE} ({quoted})"))
        cursor = dbapi.cursor()
        try:
            cursor.executemany(f"INSERT INTO {_STAGE} VALUES ({', '.join('?' * len(names))})", rows)
        finally:
            cursor.close()


def _stage_csv(conn: sa.Connection, names: list[str], csv_data: bytes) -> None:
    copy_into_pg_stage(conn, _STAGE, names, csv_data=csv_data)


def _new_value(dialect: str, name: str, merge_json: Mapping[str, Sequence[str]]) -> str:
    """The value an update writes: the staged one, or for a merged JSON column the old object
    with only the named top-level keys replaced (other writers' keys survive)."""
    keys = merge_json.get(name)
    if not keys:
        return f'excluded."{name}"'
    if dialect == "postgresql":
        pairs = ", ".join(f"'{k}', excluded.\"{name}\" -> '{k}'" for k in keys)
        return f"coalesce(datasets.\"{name}\", '{{}}'::jsonb) || jsonb_build_object({pairs})"
    sets = ", ".join(f"'$.\"{k}\"', json(json_extract(excluded.\"{name}\", '$.\"{k}\"'))" for k in keys)
    return f"json_set(coalesce(datasets.\"{name}\", '{{}}'), {sets})"


def _differs(dialect: str, names: list[str], merge_json: Mapping[str, Sequence[str]]) -> str:
    if dialect == "postgresql":  # jsonb compares by value
        return " OR ".join(
            f'datasets."{n}" IS DISTINCT FROM {_new_value(dialect, n, merge_json)}'
            for n in names if n not in KEY_COLUMNS
        ) or "false"
    # SQLite keeps JSON as text: minify both sides (json()) so formatting alone is no change.
    terms = []
    for n in names:
        if n in KEY_COLUMNS:
            continue
        if isinstance(datasets.c[n].type, sa.JSON):
            terms.append(f'json(datasets."{n}") IS NOT json({_new_value(dialect, n, merge_json)})')
        else:
            terms.append(f'datasets."{n}" IS NOT {_new_value(dialect, n, merge_json)}')
    return " OR ".join(terms) or "false"


def _existing(conn: sa.Connection, constants: Mapping[str, Any]) -> tuple[int, int]:
    """(staged rows, how many of their keys the catalog already has): an index lookup per row."""
    binds, keys = [], []
    for key in KEY_COLUMNS:
        if key in constants:
            binds.append(sa.bindparam(f"k_{key}", constants[key]))
            keys.append(f"d.{key} = :k_{key}")
        else:
            keys.append(f"d.{key} = s.{key}")
    total, present = conn.execute(
        sa.text(f"SELECT count(*), count(d.id) FROM {_STAGE} s LEFT JOIN datasets d ON {' AND '.join(keys)}").bindparams(
            *binds
        )
    ).one()
    return int(total), int(present)


def _merge(
    conn: sa.Connection,
    dialect: str,
    staged: list[str],
    constants: dict[str, Any],
    insert_only: dict[str, Any],
    merge_json: Mapping[str, Sequence[str]],
    now,
) -> int:
    """INSERT ... ON CONFLICT DO UPDATE WHERE changed; returns the rows inserted or updated.
    Staged columns come from the stage table; constants, insert-only values and timestamps
    are bound once per statement."""
    names = [*staged, *constants]
    extra = {**constants, **insert_only, "created_at": now, "updated_at": now}
    binds = [sa.bindparam(f"p_{i}", v, type_=datasets.c[n].type) for i, (n, v) in enumerate(extra.items())]
    target = ", ".join(f'"{n}"' for n in [*staged, *extra, "sync_hash"])
    values = ", ".join([*(f's."{n}"' for n in staged), *(f":{b.key}" for b in binds), "NULL"])
    updates = ", ".join(
        [f'"{n}" = {_new_value(dialect, n, merge_json)}' for n in names if n not in KEY_COLUMNS]
        + ['"sync_hash" = NULL', '"updated_at" = excluded."updated_at"']
    )
    result = conn.execute(
        sa.text(
            f"""INSERT INTO datasets ({target})
                SELECT {values} FROM {_STAGE} s WHERE true
                ON CONFLICT (source, external_id) DO UPDATE SET {updates}
                WHERE {_differs(dialect, names, merge_json)}"""
        ).bindparams(*binds)
    )
    return result.rowcount
