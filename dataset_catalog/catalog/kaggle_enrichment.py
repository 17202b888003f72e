"""SQL of the Kaggle API enrichment: claiming pending rows and recording each attempt.

A claim is one UPDATE whose candidate subquery is `FOR UPDATE SKIP LOCKED` on PostgreSQL
(concurrent claimers skip each other's rows instead of waiting for them) and a plain
subquery on SQLite, where the single statement holds the database's write lock and a second
claimer only runs after the first committed, so it sees the rows as taken. Claims older than
`stale_after` (a killed run) are claimable again. Every outcome writes its `enrichment_log`
row in the same transaction as the row's new state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets, enrichment_log
from dataset_catalog.catalog.store import CatalogStore, utcnow

SOURCE = "kaggle"
STAGE = "api_metadata"
# Columns the enrichment may set besides its own state columns.
ENRICHED_COLUMNS = frozenset(
    {"title", "subtitle", "description", "tags", "license", "usability_rating", "file_formats",
     "column_names", "size_bytes", "download_count", "view_count", "like_count"}
)


@dataclass(frozen=True)
class ClaimedDataset:
    id: int
    external_id: str
    attempts: int
    like_count: int | None
    download_count: int | None


@dataclass(frozen=True)
class Attempt:
    """What one try at one dataset produced, for its log row."""

    result: str  # success | failed | rate_limited
    duration_ms: int
    run_id: str | None
    error_type: str | None = None
    error_message: str | None = None


def _popularity_order():
    return (
        sa.func.coalesce(datasets.c.like_count, -1).desc(),
        sa.func.coalesce(datasets.c.download_count, -1).desc(),
        datasets.c.id,
    )


def claimable_condition(stale_before: datetime):
    return sa.and_(
        datasets.c.source == SOURCE,
        datasets.c.is_active.is_(True),
        sa.or_(
            datasets.c.enrichment_status == "pending",
            sa.and_(
                datasets.c.enrichment_status == "in_progress",
                sa.or_(datasets.c.enrichment_claimed_at.is_(None), datasets.c.enrichment_claimed_at < stale_before),
            ),
        ),
    )


def claim_pending(store: CatalogStore, worker: str, limit: int, stale_after: timedelta) -> list[ClaimedDataset]:
    """Mark up to `limit` claimable Kaggle rows as ours, most voted then most downloaded first."""
    store.ensure_schema()
    now = utcnow()
    candidates = (
        sa.select(datasets.c.id)
        .where(claimable_condition(now - stale_after))
        .order_by(*_popularity_order())
        .limit(limit)
        .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
        .scalar_subquery()
    )
    stmt = (
        sa.update(datasets)
        .where(datasets.c.id.in_(candidates))
        .values(enrichment_status="in_progress", enrichment_claimed_by=worker, enrichment_claimed_at=now)
        .returning(datasets.c.id, datasets.c.external_id, datasets.c.enrichment_attempts,
                   datasets.c.like_count, datasets.c.download_count)
    )
    with store.engine.begin() as conn:
        rows = [ClaimedDataset(*r) for r in conn.execute(stmt)]
    # RETURNING has no order: restore the popularity order the subquery chose.
    return sorted(rows, key=lambda r: (-(r.like_count if r.like_count is not None else -1),
                                       -(r.download_count if r.download_count is not None else -1), r.id))


def _ours(dataset_id: int, worker: str):
    return sa.and_(datasets.c.id == dataset_id, datasets.c.enrichment_claimed_by == worker,
                   datasets.c.enrichment_status == "in_progress")


def _log(conn: sa.Connection, dataset_id: int, attempt_no: int, attempt: Attempt, now: datetime) -> None:
    conn.execute(
        sa.insert(enrichment_log).values(
            dataset_id=dataset_id, stage=STAGE, result=attempt.result, attempt=attempt_no,
            error_type=attempt.error_type, error_message=attempt.error_message,
            duration_ms=attempt.duration_ms, run_id=attempt.run_id, logged_at=now,
        )
    )


_RELEASED = {"enrichment_claimed_by": None, "enrichment_claimed_at": None}


def record_success(
    store: CatalogStore, claim: ClaimedDataset, worker: str, values: Mapping[str, Any],
    attempt: Attempt, source_meta_extra: Mapping[str, Any] | None = None,
) -> bool:
    """Write the enriched values and mark the row enriched; False if our claim was lost meanwhile."""
    unknown = set(values) - ENRICHED_COLUMNS
    if unknown:
        raise ValueError(f"record_success got columns it may not write: {sorted(unknown)}")
    now = utcnow()
    with store.engine.begin() as conn:
        update: dict[str, Any] = {
            **values, **_RELEASED, "enrichment_status": "enriched", "last_enriched_at": now,
            "enrichment_attempts": datasets.c.enrichment_attempts + 1, "last_enrichment_error": None,
            "updated_at": now,
        }
        if source_meta_extra:
            current = conn.execute(sa.select(datasets.c.source_meta).where(datasets.c.id == claim.id)).scalar()
            update["source_meta"] = {**(current if isinstance(current, dict) else {}), **source_meta_extra}
        written = conn.execute(sa.update(datasets).where(_ours(claim.id, worker)).values(update)).rowcount
        if written:
            _log(conn, claim.id, claim.attempts + 1, attempt, now)
        return bool(written)


def record_failure(
    store: CatalogStore, claim: ClaimedDataset, worker: str, attempt: Attempt, *,
    max_attempts: int, gone: bool = False,
) -> str | None:
    """Count a failed attempt; the row goes back to 'pending', or 'failed' after `max_attempts`
    (at once when `gone`: the dataset no longer exists, and the row is deactivated).
    Returns the row's new status, or None if our claim was lost meanwhile."""
    now = utcnow()
    attempts = claim.attempts + 1
    status = "failed" if gone or attempts >= max_attempts else "pending"
    update: dict[str, Any] = {
        **_RELEASED, "enrichment_status": status, "enrichment_attempts": datasets.c.enrichment_attempts + 1,
        "last_enrichment_error": f"{attempt.error_type}: {attempt.error_message}"[:2000], "updated_at": now,
    }
    if gone:
        update["is_active"] = False
    with store.engine.begin() as conn:
        written = conn.execute(sa.update(datasets).where(_ours(claim.id, worker)).values(update)).rowcount
        if written:
            _log(conn, claim.id, attempts, attempt, now)
    return status if written else None


def record_rate_limited(store: CatalogStore, claim: ClaimedDataset, worker: str, attempt: Attempt) -> None:
    """Log the 429 and put the row back to 'pending' without counting an attempt."""
    now = utcnow()
    with store.engine.begin() as conn:
        written = conn.execute(
            sa.update(datasets).where(_ours(claim.id, worker)).values(
                **_RELEASED, enrichment_status="pending", updated_at=now)
        ).rowcount
        if written:
            _log(conn, claim.id, claim.attempts + 1, attempt, now)


def release_claims(store: CatalogStore, ids: Sequence[int], worker: str) -> int:
    """Hand claimed rows we did not get to back to 'pending' (batch stopped early)."""
    if not ids:
        return 0
    with store.engine.begin() as conn:
        return conn.execute(
            sa.update(datasets)
            .where(datasets.c.id.in_(list(ids)), datasets.c.enrichment_claimed_by == worker,
                   datasets.c.enrichment_status == "in_progress")
            .values(**_RELEASED, enrichment_status="pending")
        ).rowcount


def count_claimable(store: CatalogStore, stale_after: timedelta) -> int:
    """Kaggle rows still waiting for enrichment (pending, or claimed by a run that died)."""
    store.ensure_schema()
    query = sa.select(sa.func.count()).select_from(datasets).where(claimable_condition(utcnow() - stale_after))
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def enrichment_log_rows(store: CatalogStore, dataset_id: int | None = None) -> list[dict[str, Any]]:
    """The log, oldest first (for metadata, tests and operators)."""
    query = sa.select(enrichment_log).order_by(enrichment_log.c.id)
    if dataset_id is not None:
        query = query.where(enrichment_log.c.dataset_id == dataset_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
