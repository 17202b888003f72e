"""CatalogStore: one catalog database, opened ready, with the state its features keep per database.

A store owns its engine (connection pool), creates or upgrades the schema when it opens, and
holds what the catalog's features remember about this database in this process: whether the
keyword index exists, PostgreSQL's word statistics, SQLite's in-memory vector matrices. Open
one store per database and process and pass it around; `close()` (or `with`) releases it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from dataset_catalog import settings
from dataset_catalog.catalog.engine import create_catalog_engine, in_list
from dataset_catalog.catalog.schema import OBSOLETE_INDEXES, datasets, metadata
from dataset_catalog.catalog.staged_upserts import StagedRows
from dataset_catalog.catalog.upserts import UpsertCounts, upsert_datasets
from dataset_catalog.errors import CatalogConfigError

if TYPE_CHECKING:
    from dataset_catalog.catalog.vector_matrix import VectorMatrix

_NOT_A_CATALOG = (26, 11)  # SQLITE_NOTADB ("file is not a database"), SQLITE_CORRUPT


# Asked of every read-only SQLite connection; SQLite caps it at its build's maximum (2 GiB in
# CPython's), the rest of a bigger file is read as usual.
SQLITE_READER_MMAP_BYTES = 1 << 40


class CatalogStore:
    """The catalog database, ready to use: the schema is created or upgraded when it opens
    (only checked on a server that refuses writes, such as a read replica).

    `database_url` unset means `$DATASET_CATALOG_DATABASE_URL`, else the embedded SQLite file;
    an in-memory SQLite database is refused unless `allow_in_memory` (for tests).
    Source rows are written only through `upsert_datasets`; the other modules of this package
    run their own statements on `engine`.
    """

    def __init__(self, database_url: str | None = None, *, allow_in_memory: bool = False):
        self.database_url = database_url or settings.database_url()
        self.engine = create_catalog_engine(self.database_url, allow_in_memory=allow_in_memory)
        # What this package's features remember about this database (each module says what it keeps).
        self.lock = threading.Lock()
        self.keyword_index_ready = False  # catalog/keyword_index.py
        self.word_statistics: tuple[float, float, dict[str, float]] | None = None  # keyword_index.py, PostgreSQL
        self.vector_dimension_ready: int | None = None  # catalog/vector_store.py
        self.vector_matrices: dict[str, VectorMatrix] = {}  # catalog/vector_matrix.py, SQLite
        # Whether a query may start building a missing ANN index in a background thread: not in a
        # process that exits after one search (the CLI), which would be killed in the middle of it.
        self.builds_ann_index = True
        self.license_labels: tuple[float, list[str]] | None = None  # catalog/search_queries.py
        self.stored_dimensions: dict[str, tuple[float, int]] = {}  # catalog/vector_store.py
        self.read_only = False  # make_read_only()
        # The server itself refuses writes (a PostgreSQL hot standby, a read-only server): the
        # schema was checked, never created, and the keyword index is only checked too.
        self.server_read_only = False
        self.keyword_results: OrderedDict[Any, tuple[float, list]] = OrderedDict()  # keyword_index.py, read-only stores
        self.token_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()  # keyword_index.py, read-only stores
        try:
            self._create_or_upgrade_schema()
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with its password hidden, safe for logs and metadata."""
        return self.engine.url.render_as_string(hide_password=True)

    def make_read_only(self) -> None:
        """From now on every connection refuses writes (SQLite `query_only`, PostgreSQL read-only
        transactions): for readers such as the search service, which must never change the catalog.
        Call it after whatever may still create indexes (e.g. the keyword index)."""

        def refuse_writes(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            if self.dialect == "sqlite":
                cursor.execute("PRAGMA query_only = ON")
                # Pages read through a memory map instead of a read() per page: a search looks up
                # a few thousand random rows (filters, candidates), 3.4 -> 1.1 ms per 800 at 500k.
                cursor.execute(f"PRAGMA mmap_size = {SQLITE_READER_MMAP_BYTES}")
            else:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                dbapi_connection.commit()
            cursor.close()

        sa.event.listen(self.engine, "connect", refuse_writes)
        self.engine.dispose()  # pooled connections were opened writable
        self.read_only = True

    def close(self) -> None:
        """Close the pooled connections; the store must not be used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> CatalogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------
    def _create_or_upgrade_schema(self) -> None:
        """Create missing tables, columns and indexes; safe when several processes open at once.
        On a server that refuses writes (a read replica) only check that the tables and columns exist."""
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql" and _server_refuses_writes(conn):
                    self.server_read_only = True
                    _check_schema(conn, self.display_url)
                    return
                if self.dialect == "postgresql":
                    # Serialise concurrent first runs: CREATE TABLE IF NOT EXISTS still races on types.
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7426001)"))
                metadata.create_all(conn, checkfirst=True)
                _add_missing_columns(conn)
                _upgrade_indexes(conn)
        except sa.exc.OperationalError as exc:
            raise CatalogConfigError(
                f"Cannot open the catalog database {self.display_url}: {exc.orig}. "
                f"Check {settings.DATABASE_URL_ENV} and that the server is running."
            ) from None
        except sa.exc.DatabaseError as exc:
            if self.dialect != "sqlite" or getattr(exc.orig, "sqlite_errorcode", None) not in _NOT_A_CATALOG:
                raise
            raise CatalogConfigError(
                f"{self.engine.url.database} is not a SQLite catalog ({exc.orig}). Point "
                f"{settings.DATABASE_URL_ENV} at the catalog file (sqlite:////path/catalog.sqlite3), or at a "
                "path where no file exists yet to create a new catalog there."
            ) from None

    # -- writes of source rows --------------------------------------------------------------
    def upsert_datasets(
        self,
        rows: Sequence[Mapping[str, Any]] | StagedRows,
        *,
        insert_only: Collection[str] = (),
        groups: Sequence[str] | None = None,
    ) -> UpsertCounts:
        """Insert or update source rows keyed on (source, external_id), in one transaction:
        the one way source rows enter the catalog (the rule is in catalog/upserts.py).

        `rows` are dicts of column values, or a StagedRows batch of database-ready tuples or CSV
        (bulk loads). Only the columns given are written on update; `insert_only` columns are
        written into new rows only; unchanged rows are not touched. `groups`, a label per dict
        row (its partition, say), adds the counts per label (`UpsertCounts.groups()`). For a long
        run of batches, catalog/writer_process.py's `open_writer` runs this in a child process.
        """
        return upsert_datasets(self, rows, insert_only=insert_only, groups=groups)

    # -- reads ----------------------------------------------------------------------------
    def fetch_datasets(self, source: str | None = None, external_ids: Iterable[str] | None = None) -> list[dict]:
        query = sa.select(datasets).order_by(datasets.c.source, datasets.c.external_id)
        if source:
            query = query.where(datasets.c.source == source)
        if external_ids is not None:
            query = query.where(datasets.c.external_id.in_(list(external_ids)))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def source_meta_of(self, source: str, external_ids: Sequence[str]) -> dict[str, Any]:
        """{external_id: source_meta} of `source`'s rows among `external_ids` (a sync merging
        what it fetched with what it stored, without reading whole rows)."""
        if not external_ids:
            return {}
        with self.engine.connect() as conn:
            query = sa.select(datasets.c.external_id, datasets.c.source_meta).where(
                datasets.c.source == source, in_list(conn, datasets.c.external_id, list(external_ids))
            )
            return dict(conn.execute(query).all())

    def active_external_ids(self, source: str) -> set[str]:
        """External ids of `source`'s active rows (a full-listing sync finds the ones gone)."""
        query = sa.select(datasets.c.external_id).where(datasets.c.source == source, datasets.c.is_active.is_(True))
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def has_datasets(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(datasets.c.id).limit(1)).first() is not None

    def count_datasets(self, source: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(datasets)
        if source:
            query = query.where(datasets.c.source == source)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()


def _server_refuses_writes(conn: sa.Connection) -> bool:
    """A hot standby (in recovery), or a server or role whose transactions are read-only."""
    return conn.execute(
        sa.text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")
    ).scalar_one()


def _check_schema(conn: sa.Connection, display_url: str) -> None:
    """CatalogConfigError unless every table and column of this version exists: a read-only
    server cannot create them, its primary's writer has to. A missing index only slows reads."""
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())
    missing = [t.name for t in metadata.sorted_tables if t.name not in present]
    for table in metadata.sorted_tables:
        if table.name in present:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in columns]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise CatalogConfigError(
            f"The catalog database {display_url} is read-only (a hot standby or read-only server) and lacks "
            f"what this version reads: {shown}. Run the writer against the primary first (a source sync, "
            "or materialize dataset_embeddings), wait for the replica to replay it, then start this again."
        )


def _add_missing_columns(conn: sa.Connection) -> None:
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


def _upgrade_indexes(conn: sa.Connection) -> None:
    """Create indexes added since a table was created; drop the ones they replace."""
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(conn, checkfirst=True)
    for name in OBSOLETE_INDEXES:
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
