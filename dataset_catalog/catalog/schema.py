"""Table definitions of the catalog (SQLAlchemy Core), shared by SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


class EnrichmentStatus:
    """Values of `datasets.enrichment_status`."""

    PENDING = "pending"  # waiting for its source's enrichment
    IN_PROGRESS = "in_progress"  # claimed by a run (enrichment_claimed_by / _at)
    ENRICHED = "enriched"
    FAILED = "failed"  # gave up after max attempts, or the dataset is gone
    ALL = (PENDING, IN_PROGRESS, ENRICHED, FAILED)


class EnrichmentResult:
    """Values of `enrichment_log.result`."""

    SUCCESS = "success"
    FAILED = "failed"
    RATE_LIMITED = "rate_limited"
    SKIPPED = "skipped"
    SOURCE_UNAVAILABLE = "unavailable"  # the source failed as a whole: not the dataset's fault
    ALL = (SUCCESS, FAILED, RATE_LIMITED, SKIPPED, SOURCE_UNAVAILABLE)


class LinkStatus:
    """Values of `datasets.link_status` (NULL: never checked, shown as UNCHECKED)."""

    OK = "ok"
    BROKEN = "broken"  # 404 / 410: the page is gone
    INVALID = "invalid"  # no usable URL, unsupported scheme, redirect loop or too many redirects
    BLOCKED = "blocked"  # the address policy refused a hop: evidence neither way
    TRANSIENT = "transient_error"  # timeout, connection/DNS error, 5xx, 429
    HTTP_ERROR = "http_error"  # any other 4xx (401, 403, ...): the server answers but refuses us
    UNCHECKED = "unchecked"
    # Failures that say the page is gone (the janitor deactivates after fewer of them).
    DEFINITIVE = frozenset({BROKEN, INVALID})
    TRANSIENT_KINDS = frozenset({TRANSIENT, HTTP_ERROR})
    # Outcomes that change neither the failure count nor activity.
    NEUTRAL = frozenset({BLOCKED})


datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(512), nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("subtitle", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("tags", Json),
    sa.Column("task_categories", Json),
    sa.Column("languages", Json),
    sa.Column("license", sa.String(256)),
    sa.Column("file_formats", Json),
    sa.Column("size_category", sa.String(64)),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("row_count", sa.BigInteger),
    sa.Column("column_names", Json),
    sa.Column("download_count", sa.BigInteger),
    sa.Column("view_count", sa.BigInteger),
    sa.Column("like_count", sa.BigInteger),  # HF likes; Kaggle votes
    sa.Column("usability_rating", sa.Float),
    # How many other datasets mention this one by name (search/references.py): a search prior.
    sa.Column("reference_count", sa.Integer),
    sa.Column("source_created_at", Timestamp),
    sa.Column("source_updated_at", Timestamp),
    sa.Column("enrichment_status", sa.String(16), nullable=False, server_default=EnrichmentStatus.PENDING),
    sa.Column("enrichment_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_enrichment_error", sa.Text),
    sa.Column("last_enriched_at", Timestamp),
    sa.Column("enrichment_claimed_by", sa.String(64)),
    sa.Column("enrichment_claimed_at", Timestamp),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("link_status", sa.String(32)),
    sa.Column("link_http_status", sa.Integer),
    sa.Column("link_failure_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_checked_at", Timestamp),
    # The standard fields (common/standard_fields.py): every mapping writes them in one shape,
    # so the read side shows files, creators, a citation and how to load without knowing the source.
    sa.Column("files", Json),
    sa.Column("creators", Json),
    sa.Column("citation", sa.Text),
    sa.Column("load_code", sa.Text),
    sa.Column("load_language", sa.String(32)),
    sa.Column("source_meta", Json),
    # Hash of the source-synced columns: an upsert that brings nothing new changes nothing.
    sa.Column("sync_hash", sa.String(64)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("source", "external_id", name="uq_datasets_source_external_id"),
    # Pending-row claims use its prefix; whole, it covers the catalog summary (catalog/summary.py),
    # which would otherwise scan the wide rows (100k rows: 60 ms -> 8 ms).
    sa.Index("ix_datasets_summary", "source", "enrichment_status", "is_active", "link_status"),
    sa.Index("ix_datasets_last_checked", "is_active", "last_checked_at"),
    sa.Index("ix_datasets_source_updated", "source", "source_updated_at"),
    # Search reads the distinct license labels to turn an SPDX id or family into labels.
    sa.Index("ix_datasets_license", "license"),
)

enrichment_log = sa.Table(
    "enrichment_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("error_type", sa.String(128)),
    sa.Column("error_message", sa.Text),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("run_id", sa.String(64)),
    sa.Column("logged_at", Timestamp, nullable=False),
    sa.Index("ix_enrichment_log_dataset", "dataset_id", "logged_at"),
)

# Columns owned by the catalog's own processes (enrichment, link checks), never by a source sync.
STATE_COLUMNS = frozenset(
    {
        "id",
        "enrichment_attempts",
        "last_enrichment_error",
        "last_enriched_at",
        "enrichment_claimed_by",
        "enrichment_claimed_at",
        "link_status",
        "link_http_status",
        "link_failure_count",
        "last_checked_at",
        "reference_count",
        "created_at",
    }
)
# Columns a source sync (or its enrichment) writes; updated_at is set by the writer itself.
SYNCED_COLUMNS = frozenset(c.name for c in datasets.columns) - STATE_COLUMNS - {"updated_at"}

# -- embeddings ------------------------------------------------------------------------------------
# One vector per dataset, for the model named in `model`. On SQLite `embedding` holds little-endian
# float32 bytes; on PostgreSQL catalog/vector_store.py turns the column into pgvector's `vector(d)`
# (the extension is only required once embeddings are used, so a plain sync never needs it).
dataset_embeddings = sa.Table(
    "dataset_embeddings",
    metadata,
    sa.Column(
        "dataset_id",
        BigId,
        sa.ForeignKey("datasets.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("model", sa.String(512), nullable=False),
    sa.Column("dimension", sa.Integer, nullable=False),
    # sha256 of the embedding text: a changed title/description/tags re-embeds the row.
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("embedding", sa.LargeBinary),
    sa.Column("embedded_at", Timestamp, nullable=False),
    sa.Index("ix_dataset_embeddings_model", "model", "content_hash"),
)

# A token replaced on every write to dataset_embeddings (the row named EMBEDDINGS_GENERATION_KEY):
# in-memory vector matrices (catalog/vector_matrix.py) reload when it changes.
EMBEDDINGS_GENERATION_KEY = "dataset_embeddings"
embedding_generation = sa.Table(
    "embedding_generation",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("generation", sa.String(32), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)


# -- duplicate clusters (catalog/clusters.py; the decisions are plain code in clusters/) ------------
# One row per linked pair (low_id < high_id), with the evidence that linked them, strongest first.
dataset_links = sa.Table(
    "dataset_links",
    metadata,
    sa.Column("low_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column(
        "high_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("evidence", Json, nullable=False),
    sa.Column("linked_at", Timestamp, nullable=False),
    sa.Index("ix_dataset_links_high", "high_id"),
)
# Pairs a comparison found to be different data though they share evidence (a conflicting name,
# row counts far apart): never put in one cluster, however other links chain.
dataset_apart = sa.Table(
    "dataset_apart",
    metadata,
    sa.Column("low_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column(
        "high_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Index("ix_dataset_apart_high", "high_id"),
)
# Every clustered row's cluster: the smallest dataset id among its members (most rows are alone
# and have no row here).
dataset_clusters = sa.Table(
    "dataset_clusters",
    metadata,
    sa.Column(
        "dataset_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("cluster_id", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("ix_dataset_clusters_cluster", "cluster_id"),
)
# What a compared row said (its evidence, clusters/facts.py) and the `datasets.updated_at` it was
# read at: a row whose stamp differs, or that has no row here, is compared again by the next run.
dataset_cluster_facts = sa.Table(
    "dataset_cluster_facts",
    metadata,
    sa.Column(
        "dataset_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("read_at_update", Timestamp, nullable=False),
    sa.Column("facts", Json, nullable=False),
)
# Blocking keys (normalised names, name words, identifiers): rows sharing one are compared.
dataset_cluster_keys = sa.Table(
    "dataset_cluster_keys",
    metadata,
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column(
        "dataset_id", BigId, sa.ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Index("ix_dataset_cluster_keys_dataset", "dataset_id"),
)


class PgVector(sa.types.UserDefinedType):
    """pgvector's `vector` type, for casts in queries and so table reflection recognises it."""

    cache_ok = True

    def __init__(self, dimension: int | None = None):
        self.dimension = dimension

    def get_col_spec(self, **_kw) -> str:
        return f"vector({self.dimension})" if self.dimension else "vector"


from sqlalchemy.dialects.postgresql import base as _pg_base  # noqa: E402

_pg_base.ischema_names.setdefault("vector", PgVector)

# Indexes earlier versions created and this one replaces (dropped on upgrade).
OBSOLETE_INDEXES = ("ix_datasets_enrichment", "ix_datasets_state")
