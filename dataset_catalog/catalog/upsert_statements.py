"""The statements and parameter binding behind upserts of dict rows (catalog/upserts.py).

Per row shape the upsert is compiled once and its rows are bound by generated straight-line
code; SQLAlchemy's generic per-statement and per-row handling cost more than the database
write itself for wide rows. Values are converted as the columns' own bind processors would
convert them (`bind_converter`), so what is stored is what SQLAlchemy would store.

SQLite runs `INSERT ... VALUES ... ON CONFLICT` through the driver's executemany. PostgreSQL
COPYs the rows into a temporary table and merges them with one `INSERT ... SELECT ... ON
CONFLICT`: psycopg's executemany adapts every value in Python (measured: 100k Hub rows 3.9 s of
client time, against ~0.6 s for COPY).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from dataset_catalog.catalog.schema import datasets

KEY_COLUMNS = ("source", "external_id")
# Set by the writer itself, converted once per batch (see upserts.prepare_upsert).
STORE_SET_TIMESTAMPS = frozenset({"created_at", "updated_at"})
PG_STAGE = "upsert_stage_datasets"


@dataclass(frozen=True)
class PreparedUpsert:
    """Rows of one shape, bound for the driver, with their keys and sync hashes (picklable)."""

    columns: tuple[str, ...]  # the order of each params tuple
    sql: str
    sources: list[str]
    external_ids: list[str]
    sync_hashes: list[str]
    params: list[tuple]
    groups: list[str] | None = None  # a label per row (e.g. its partition): counts are kept per label too


class JsonText(str):
    """A JSON column value that is already serialised JSON text (e.g. a source's raw payload,
    which the mapping has serialised anyway to hash it): stored as it is, not encoded again."""

    __slots__ = ()


# One object for the most frequent JSON value (an empty list: no files, columns, tags): a batch
# pickled for the writer process carries it much faster than a fresh string per row.
EMPTY_JSON_LIST = "[]"


def json_dumps(value: Any) -> str:
    """JSON for JSON columns: orjson is several times faster than json on wide source payloads."""
    if type(value) is JsonText:
        return str(value)
    if type(value) is list and not value:
        return EMPTY_JSON_LIST
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def _sqlite_datetime_text(value: Any) -> Any:
    """SQLAlchemy's SQLite DATETIME storage text ("YYYY-MM-DD HH:MM:SS.ffffff", wall time, offset
    dropped): the first 26 characters of C-level isoformat, several times cheaper than its
    %-formatting of a dict per value."""
    if type(value) is datetime:
        return value.isoformat(" ", "microseconds")[:26]
    return _SQLITE_DATETIME_PROCESSOR(value)  # None, dates and anything unusual: SQLAlchemy's own


_SQLITE_DATETIME_PROCESSOR = sa.DateTime(timezone=True)._cached_bind_processor(sqlite.dialect())


def bind_converter(dialect, column: str):
    """How one column's values become driver parameters. JSON becomes its text on both
    databases (SQLAlchemy serialises every value with the same serializer, None as 'null';
    COPY hands the text to jsonb), SQLite timestamps SQLAlchemy's storage text; every other
    column keeps its SQLAlchemy bind processor. dataset_catalog_tests/catalog/test_upserts.py checks
    they agree."""
    column_type = datasets.c[column].type
    if isinstance(column_type, sa.JSON):
        return json_dumps
    if dialect.name == "sqlite" and isinstance(column_type, sa.DateTime):
        return _sqlite_datetime_text
    return column_type._cached_bind_processor(dialect)


def _row_binder(dialect, names: tuple[str, ...]):
    """`bind(row, sync_hash, now) -> tuple` in `names` order, as generated straight-line code (as
    namedtuple and dataclasses do): a loop over ~30 columns with a converter lookup each cost
    more than the conversions themselves (measured: prepare_upsert 8.6 -> 5.0 µs a row)."""
    namespace: dict[str, Any] = {}
    values = []
    for i, name in enumerate(names):
        if name == "sync_hash":
            values.append("sync_hash")
        elif name in STORE_SET_TIMESTAMPS:
            values.append("now")
        elif (converter := bind_converter(dialect, name)) is not None:
            namespace[f"convert_{i}"] = converter
            values.append(f"convert_{i}(row[{name!r}])")
        else:
            values.append(f"row[{name!r}]")
    source = f"def bind(row, sync_hash, now):\n    return ({', '.join(values)},)\n"
    exec(source, namespace)
    return namespace["bind"]


@functools.lru_cache(maxsize=64)
def upsert_statement(dialect, written: tuple[str, ...], insert_only: frozenset[str]):
    """(column order, SQL, binder) of the upsert of one row shape."""
    update_columns = [c for c in written if c not in KEY_COLUMNS and c not in insert_only and c != "created_at"]
    if dialect.name == "postgresql":
        quoted = ", ".join(f'"{c}"' for c in written)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in update_columns)
        sql = (
            f"INSERT INTO datasets ({quoted}) SELECT {quoted} FROM {PG_STAGE} "
            f"ON CONFLICT (source, external_id) DO UPDATE SET {updates} "
            "WHERE datasets.sync_hash IS DISTINCT FROM excluded.sync_hash"
        )
        return written, sql, _row_binder(dialect, written)
    stmt = sqlite.insert(datasets)
    stmt = stmt.values({c: sa.bindparam(c) for c in written}).on_conflict_do_update(
        index_elements=list(KEY_COLUMNS),
        set_={c: stmt.excluded[c] for c in update_columns},
        where=datasets.c.sync_hash.is_distinct_from(stmt.excluded.sync_hash),
    )
    compiled = stmt.compile(dialect=dialect)
    order = tuple(compiled.positiontup)
    return order, str(compiled), _row_binder(dialect, order)


def write_prepared_rows(conn: sa.Connection, batch: PreparedUpsert, rows: list[tuple]) -> None:
    """Run a batch's upsert for `rows` (its params, minus the unchanged ones)."""
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(batch.sql, rows)
        return
    copy_into_pg_stage(conn, PG_STAGE, batch.columns, rows)
    conn.exec_driver_sql(batch.sql)


def copy_into_pg_stage(
    conn: sa.Connection,
    stage: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]] = (),
    *,
    csv_data: bytes | None = None,
) -> None:
    """PostgreSQL: a fresh temp table `stage` with datasets' types for `columns` (so COPY parses
    JSON and timestamps; dropped at commit), filled by COPY from value tuples or CSV bytes."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{stage}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {quoted} FROM datasets WITH NO DATA")
    csv_format = " (FORMAT csv)" if csv_data is not None else ""
    with (
        conn.connection.dbapi_connection.cursor() as cursor,
        cursor.copy(f"COPY {stage} ({quoted}) FROM STDIN{csv_format}") as copy,
    ):
        if csv_data is not None:
            view = memoryview(csv_data)
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start : start + (1 << 20)])
        else:
            for row in rows:
                copy.write_row(row)


def commit_without_waiting_for_wal_flush(conn: sa.Connection) -> None:
    """PostgreSQL: this transaction's commit does not wait for the WAL flush (~5 ms a batch).
    Source rows can always be written again by re-running the sync or seed, so a server crash
    that loses the last commits is harmless; it never costs consistency."""
    conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
