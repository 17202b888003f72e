"""Upserts of StagedRows: many database-ready rows staged, then merged by one SQL statement.

Dict rows are hashed and bound in Python (catalog/upserts.py); the Meta Kaggle seed writes 500k
rows from DuckDB, so it stages value tuples instead (SQLite: executemany into a temp table;
PostgreSQL: COPY, of tuples or CSV) and merges them with one INSERT ... ON CONFLICT per batch, in
one transaction. The rule is catalog/upserts.py's; here changes are found by comparing values.

Producers hand values ready for the database: JSON columns as JSON text, timestamps as UTC text
in `timestamp_text_format(dialect)`, everything else as str/int/float/None.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dataset_catalog.catalog.engine import utcnow
from dataset_catalog.catalog.schema import SYNCED_COLUMNS, datasets
from dataset_catalog.catalog.upsert_statements import (
    KEY_COLUMNS,
    commit_without_waiting_for_wal_flush,
    copy_into_pg_stage,
)

if TYPE_CHECKING:
    from dataset_catalog.catalog.store import CatalogStore

_WRITABLE = SYNCED_COLUMNS - {"sync_hash"}
_STAGE = "bulk_stage_datasets"
SQLITE_BULK_AUTOCHECKPOINT_PAGES = 100_000  # between checkpoints at most 1.6 GB of WAL with 16 KiB pages
_SQLITE_BULK_PRAGMAS = {"wal_autocheckpoint": SQLITE_BULK_AUTOCHECKPOINT_PAGES, "cache_size": -131072}  # 128 MiB


def timestamp_text_format(dialect: str) -> str:
    """strftime format of timestamp values: SQLAlchemy's own SQLite storage format, or ISO UTC."""
    return "%Y-%m-%d %H:%M:%S.%f" if dialect == "sqlite" else "%Y-%m-%d %H:%M:%S.%f+00"


@dataclass(frozen=True)
class StagedRows:
    """A bulk batch of database-ready rows for `CatalogStore.upsert_datasets`.

    `rows` are tuples in `columns` order (the last tuple of a key wins); or, on PostgreSQL,
    `csv` holds them as RFC-4180 CSV without header, in `columns` order, keys unique, an
    unquoted empty field NULL, streamed straight into COPY. `constants` are written into every
    row (e.g. source). `merge_json` maps a JSON column to the top-level keys this writer owns:
    an update replaces those keys and keeps the others (e.g. source_meta keys of enrichment).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]] = ()
    csv: bytes | None = None
    constants: Mapping[str, Any] = field(default_factory=dict)
    merge_json: Mapping[str, Sequence[str]] = field(default_factory=dict)


def merge_staged(store: CatalogStore, staged: StagedRows, insert_only: Collection[str] = ()) -> tuple[int, int, int]:
    """Stage and merge `staged` in one transaction; (inserted, updated, unchanged).

    `insert_only` names columns (staged or constant) written into new rows only.
    """
    columns, constants, insert_only = list(staged.columns), dict(staged.constants), frozenset(insert_only)
    names = [*columns, *constants]
    unknown = (set(names) | insert_only) - _WRITABLE
    if unknown or not set(KEY_COLUMNS) <= set(names) or not insert_only <= set(names):
        raise ValueError(
            f"staged upsert: bad columns {sorted(unknown or insert_only - set(names))} "
            "(need source and external_id; insert-only columns must be staged or constant)"
        )
    if staged.csv is not None:
        if store.dialect != "postgresql":
            raise ValueError("CSV staging is for PostgreSQL; stage tuples in `rows` on SQLite")
        if not staged.csv:
            return 0, 0, 0
        data = staged.csv
        return _load(
            store,
            columns,
            lambda conn: copy_into_pg_stage(conn, _STAGE, columns, csv_data=data),
            constants,
            insert_only,
            staged.merge_json,
        )
    rows = staged.rows
    if not rows:
        return 0, 0, 0
    key_at = [columns.index(k) for k in KEY_COLUMNS if k in columns]
    if not (len(key_at) == 1 and len({row[key_at[0]] for row in rows}) == len(rows)):
        rows = list({tuple(row[i] for i in key_at): row for row in rows}.values())
    # else the usual case (e.g. refs made unique by the seed's SQL): no copy
    return _load(
        store,
        columns,
        lambda conn: _stage_rows(conn, store.dialect, columns, rows),
        constants,
        insert_only,
        staged.merge_json,
    )


def _load(
    store: CatalogStore,
    columns: list[str],
    stage: Callable[[sa.Connection], None],
    constants: dict[str, Any],
    insert_only: frozenset[str],
    merge_json: Mapping[str, Sequence[str]],
) -> tuple[int, int, int]:
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
            total, present = _existing(conn, constants)
            written = _merge(conn, store.dialect, columns, constants, insert_only, merge_json, now)
            conn.commit()
        finally:  # also after an error: the pooled connection must not keep the bulk settings
            if store.dialect == "sqlite":
                conn.rollback()  # a no-op after the commit; ends a failed transaction
                for pragma, value in restore.items():
                    conn.exec_driver_sql(f"PRAGMA {pragma} = {int(value)}")
                conn.commit()
    # The merge writes new rows and changed ones (ON CONFLICT ... WHERE values differ).
    inserted = total - present
    return inserted, written - inserted, present - (written - inserted)


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


def _new_value(dialect: str, name: str, merge_json: Mapping[str, Sequence[str]]) -> str:
    """The value an update writes: the staged one, or for a merged JSON column the old object
    with only the named top-level keys replaced (other writers' keys survive)."""
    keys = merge_json.get(name)
    if not keys:
        return f'excluded."{name}"'
    if dialect == "postgresql":
        pairs = ", ".join(f"'{k}', excluded.\"{name}\" -> '{k}'" for k in keys)
        return f"coalesce(datasets.\"{name}\", '{{}}'::jsonb) || jsonb_build_object({pairs})"
    sets = ", ".join(f'\'$."{k}"\', json(json_extract(excluded."{name}", \'$."{k}"\'))' for k in keys)
    return f"json_set(coalesce(datasets.\"{name}\", '{{}}'), {sets})"


def _differs(dialect: str, names: list[str], merge_json: Mapping[str, Sequence[str]]) -> str:
    if dialect == "postgresql":  # jsonb compares by value
        return (
            " OR ".join(
                f'datasets."{n}" IS DISTINCT FROM {_new_value(dialect, n, merge_json)}'
                for n in names
                if n not in KEY_COLUMNS
            )
            or "false"
        )
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
        sa.text(
            f"SELECT count(*), count(d.id) FROM {_STAGE} s LEFT JOIN datasets d ON {' AND '.join(keys)}"
        ).bindparams(*binds)
    ).one()
    return int(total), int(present)


def _merge(
    conn: sa.Connection,
    dialect: str,
    staged: list[str],
    constants: dict[str, Any],
    insert_only: frozenset[str],
    merge_json: Mapping[str, Sequence[str]],
    now,
) -> int:
    """INSERT ... ON CONFLICT DO UPDATE WHERE changed; returns the rows inserted or updated.
    Staged columns come from the stage table; constants and timestamps are bound once per
    statement. Insert-only columns are neither updated nor compared."""
    extra = {**constants, "created_at": now, "updated_at": now}
    updated = [n for n in [*staged, *constants] if n not in KEY_COLUMNS and n not in insert_only]
    binds = [sa.bindparam(f"p_{i}", v, type_=datasets.c[n].type) for i, (n, v) in enumerate(extra.items())]
    target = ", ".join(f'"{n}"' for n in [*staged, *extra, "sync_hash"])
    values = ", ".join([*(f's."{n}"' for n in staged), *(f":{b.key}" for b in binds), "NULL"])
    updates = ", ".join(
        [f'"{n}" = {_new_value(dialect, n, merge_json)}' for n in updated]
        + ['"sync_hash" = NULL', '"updated_at" = excluded."updated_at"']
    )
    result = conn.execute(
        sa.text(
            f"""INSERT INTO datasets ({target})
                SELECT {values} FROM {_STAGE} s WHERE true
                ON CONFLICT (source, external_id) DO UPDATE SET {updates}
                WHERE {_differs(dialect, updated, merge_json)}"""
        ).bindparams(*binds)
    )
    return result.rowcount
