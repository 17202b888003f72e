"""CatalogStore: schema management and batched, idempotent upserts (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine

from dataset_catalog import settings
from dataset_catalog.catalog.schema import (
    OBSOLETE_INDEXES,
    STATE_COLUMNS,
    dataset_embeddings,
    datasets,
    enrichment_log,
    metadata,
)
from dataset_catalog.catalog.upsert_statements import (
    KEY_COLUMNS,
    STORE_SET_TIMESTAMPS,
    PreparedUpsert,
    bind_converter,
    commit_without_waiting_for_wal_flush,
    json_dumps,
    upsert_statement,
    write_prepared_rows,
)
from dataset_catalog.errors import CatalogConfigError

# A row may bring its own sync_hash when the caller can hash its raw input more cheaply.
_SYNCED_COLUMNS = frozenset(c.name for c in datasets.columns) - STATE_COLUMNS - {"updated_at"}


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def utcnow() -> datetime:
    return datetime.now(UTC)


_HASH_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def sync_hash(row: Mapping[str, Any]) -> str:
    """Stable hash of a row's synced values, so an identical re-sync is a no-op."""
    payload = {k: v for k, v in row.items() if k not in KEY_COLUMNS}
    return hashlib.sha256(orjson.dumps(payload, option=_HASH_OPTIONS, default=str)).hexdigest()


def in_list(conn: sa.Connection, column: sa.ColumnElement, values: list) -> sa.ColumnElement[bool]:
    """`column IN values` with the values as ONE parameter, so the statement is compiled once
    and cached: SQLAlchemy otherwise renders and processes a placeholder per value (measured,
    500 values: PostgreSQL 140 ms -> 1 ms as `= ANY(array)`; SQLite ~1.5 ms -> 0.2 ms as
    `IN (SELECT value FROM json_each(:json))`)."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, value=values, type_=ARRAY(column.type)))
    listed = sa.func.json_each(sa.bindparam(None, value=json_dumps(values), type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(listed.c.value))


SQLITE_PAGE_SIZE = 16384


def _configure_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Takes effect only when the file is new (before WAL): catalog rows are ~1-2 KB, and with
    # 16 KiB pages a commit writes fewer, fuller pages (measured: Hub sync writes 30% faster).
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    # WAL lets readers (the UI, search) run while a sync writes; busy_timeout waits out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(database_url: str) -> Engine:
    """One engine (connection pool) per URL and process."""
    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is None:
            try:
                url = sa.make_url(database_url)
            except sa.exc.ArgumentError as exc:
                raise CatalogConfigError(
                    f"{settings.DATABASE_URL_ENV} is not a valid SQLAlchemy URL "
                    "(e.g. sqlite:////path/catalog.sqlite3 or postgresql://user:pass@host/db)."
                ) from exc
            if url.get_backend_name() == "sqlite":
                if url.database and url.database != ":memory:":
                    Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                engine = sa.create_engine(
                    url, connect_args={"timeout": 60}, json_serializer=json_dumps, json_deserializer=orjson.loads
                )
                sa.event.listen(engine, "connect", _configure_sqlite)
            elif url.get_backend_name() == "postgresql":
                engine = sa.create_engine(
                    url, pool_pre_ping=True, json_serializer=json_dumps, json_deserializer=orjson.loads
                )
            else:
                raise CatalogConfigError(
                    f"{settings.DATABASE_URL_ENV} names an unsupported database "
                    f"'{url.get_backend_name()}': use sqlite:/// or postgresql://."
                )
            _engines[database_url] = engine
        return engine


class CatalogStore:
    """The catalog database: schema, dataset upserts and reads. The other modules of this
    package run their own statements on its engine."""

    def __init__(self, database_url: str | None = None):
        self.database_url = database_url or settings.database_url()
        self.engine = engine_for(self.database_url)
        self._schema_ready = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with its password hidden, safe for logs and metadata."""
        return self.engine.url.render_as_string(hide_password=True)

    # -- schema ---------------------------------------------------------------------------
    def ensure_schema(self) -> CatalogStore:
        """Create missing tables and columns; safe to call concurrently and repeatedly."""
        if self._schema_ready:
            return self
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    # Serialise concurrent first runs: CREATE TABLE IF NOT EXISTS still races on types.
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7426001)"))
                metadata.create_all(conn, checkfirst=True)
                self._add_missing_columns(conn)
                self._upgrade_indexes(conn)
        except sa.exc.OperationalError as exc:
            raise CatalogConfigError(
                f"Cannot open the catalog database {self.display_url}: {exc.orig}. "
                f"Check {settings.DATABASE_URL_ENV} and that the server is running."
            ) from None
        self._schema_ready = True
        return self

    def _add_missing_columns(self, conn: sa.Connection) -> None:
        """Upgrade tables created by an older version: add the columns it did not have."""
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                ddl = f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {column.type.compile(dialect=conn.dialect)}'
                default = column.server_default.arg if column.server_default is not None else None
                if isinstance(default, str):
                    ddl += f" DEFAULT '{default}'"
                elif default is not None:
                    ddl += f" DEFAULT {default.compile(dialect=conn.dialect)}"
                conn.execute(sa.text(ddl))

    @staticmethod
    def _upgrade_indexes(conn: sa.Connection) -> None:
        """Create indexes added since a table was created; drop the ones they replace."""
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)
        for name in OBSOLETE_INDEXES:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))

    # -- writes ---------------------------------------------------------------------------
    def upsert_datasets(
        self, rows: Sequence[Mapping[str, Any]], *, insert_only: Collection[str] = ()
    ) -> UpsertCounts:
        """Insert or update rows keyed on (source, external_id), in one transaction.

        Only the columns a row carries are written on update, so enrichment and link state
        survive a re-sync; `insert_only` columns (e.g. an initial enrichment status) are set
        on insert and never overwritten. Rows whose synced values are unchanged are not touched.
        """
        return self.execute_upsert(self.prepare_upsert(rows, insert_only=insert_only))

    def prepare_upsert(
        self, rows: Sequence[Mapping[str, Any]], *, insert_only: Collection[str] = ()
    ) -> list[PreparedUpsert]:
        """The CPU half of upsert_datasets, no connection needed: check, de-duplicate (last one
        wins), hash and bind the rows. The result is plain data that `execute_upsert` writes,
        here or in a writer process."""
        latest: dict[tuple[str, str], Mapping[str, Any]] = {}
        for row in rows:
            latest[(row["source"], row["external_id"])] = row
        by_shape: dict[frozenset[str], list[Mapping[str, Any]]] = {}
        for row in latest.values():
            by_shape.setdefault(frozenset(row), []).append(row)
        for shape in by_shape:
            if not shape <= _SYNCED_COLUMNS:
                raise ValueError(f"upsert_datasets got columns it may not write: {sorted(shape - _SYNCED_COLUMNS)}")
        dialect = self.engine.dialect
        to_timestamp_param = bind_converter(dialect, "created_at") or (lambda value: value)
        now_param = to_timestamp_param(utcnow())  # converted once per batch, not once per row
        insert_only = frozenset(insert_only)
        return [
            self._prepare_shape(dialect, sorted(shape), shape_rows, insert_only, now_param)
            for shape, shape_rows in by_shape.items()
        ]

    def _prepare_shape(self, dialect, columns, rows, insert_only, now_param) -> PreparedUpsert:
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
        )

    def execute_upsert(self, batches: Sequence[PreparedUpsert]) -> UpsertCounts:
        """Write prepared batches in one transaction: new rows are inserted, changed ones
        updated, unchanged ones (same sync_hash) left alone; returns the counts."""
        counts = UpsertCounts()
        if not any(b.params for b in batches):
            return counts
        self.ensure_schema()
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                commit_without_waiting_for_wal_flush(conn)
            for batch in batches:
                counts += self._execute_prepared(conn, batch)
        return counts

    @staticmethod
    def _execute_prepared(conn, batch: PreparedUpsert) -> UpsertCounts:
        existing: dict[tuple[str, str], str | None] = {}
        for source in set(batch.sources):
            ids = [e for s, e in zip(batch.sources, batch.external_ids) if s == source]
            found = conn.execute(
                sa.select(datasets.c.external_id, datasets.c.sync_hash).where(
                    datasets.c.source == source, in_list(conn, datasets.c.external_id, ids)
                )
            )
            existing.update({(source, ext): h for ext, h in found})
        to_write, inserted, updated = [], 0, 0
        for key, row_hash, params in zip(zip(batch.sources, batch.external_ids), batch.sync_hashes, batch.params):
            if key not in existing:
                inserted += 1
            elif existing[key] != row_hash:
                updated += 1
            else:
                continue
            to_write.append(params)
        if to_write:
            write_prepared_rows(conn, batch, to_write)
        return UpsertCounts(inserted, updated, len(batch.params) - inserted - updated)

    def log_enrichment(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Append enrichment_log rows (dataset_id, stage, result, attempt, error_*, duration_ms, run_id)."""
        entries = [{"logged_at": utcnow(), **e} for e in entries]
        if entries:
            self.ensure_schema()
            with self.engine.begin() as conn:
                conn.execute(sa.insert(enrichment_log), entries)
        return len(entries)

    # -- reads ----------------------------------------------------------------------------
    def fetch_datasets(self, source: str | None = None, external_ids: Iterable[str] | None = None) -> list[dict]:
        self.ensure_schema()
        query = sa.select(datasets).order_by(datasets.c.source, datasets.c.external_id)
        if source:
            query = query.where(datasets.c.source == source)
        if external_ids is not None:
            query = query.where(datasets.c.external_id.in_(list(external_ids)))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count_datasets(self, source: str | None = None) -> int:
        self.ensure_schema()
        query = sa.select(sa.func.count()).select_from(datasets)
        if source:
            query = query.where(datasets.c.source == source)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def status_summary(self) -> list[dict[str, Any]]:
        """Rows per source, enrichment status and active flag, and how many have an embedding:
        the catalog's completeness at a glance."""
        self.ensure_schema()
        query = (
            sa.select(
                datasets.c.source,
                datasets.c.enrichment_status,
                datasets.c.is_active,
                sa.func.count().label("rows"),
                sa.func.count(dataset_embeddings.c.dataset_id).label("embedded"),
            )
            .select_from(datasets.outerjoin(dataset_embeddings, dataset_embeddings.c.dataset_id == datasets.c.id))
            .group_by(datasets.c.source, datasets.c.enrichment_status, datasets.c.is_active)
            .order_by(datasets.c.source, datasets.c.enrichment_status, datasets.c.is_active)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
