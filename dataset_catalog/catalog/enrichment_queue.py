"""The enrichment queue: rows of one source waiting for one enrichment stage, claimed by runs.

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

from dataset_catalog.catalog.engine import utcnow
from dataset_catalog.catalog.schema import SYNCED_COLUMNS, EnrichmentStatus, datasets, enrichment_log
from dataset_catalog.catalog.store import CatalogStore

# What any enrichment may write besides the queue's own state columns.
ENRICHABLE_COLUMNS = SYNCED_COLUMNS - {"source", "external_id", "sync_hash", "enrichment_status", "is_active"}
_RELEASED = {"enrichment_claimed_by": None, "enrichment_claimed_at": None}


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

    result: str  # an EnrichmentResult
    duration_ms: int
    run_id: str | None
    error_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class EnrichmentQueue:
    """The pending rows of `source` for the enrichment stage `stage` (its enrichment_log name),
    most popular first: most liked (Kaggle: votes), then most downloaded. A success may write
    `columns` (a subset of ENRICHABLE_COLUMNS) and nothing else."""

    source: str
    stage: str
    columns: frozenset[str] = ENRICHABLE_COLUMNS

    def __post_init__(self):
        if not self.columns <= ENRICHABLE_COLUMNS:
            raise ValueError(f"an enrichment may not write {sorted(self.columns - ENRICHABLE_COLUMNS)}")

    def claimable(self, stale_before: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(
            datasets.c.source == self.source,
            datasets.c.is_active.is_(True),
            sa.or_(
                datasets.c.enrichment_status == EnrichmentStatus.PENDING,
                sa.and_(
                    datasets.c.enrichment_status == EnrichmentStatus.IN_PROGRESS,
                    sa.or_(datasets.c.enrichment_claimed_at.is_(None), datasets.c.enrichment_claimed_at < stale_before),
                ),
            ),
        )

    def claim(self, store: CatalogStore, worker: str, limit: int, stale_after: timedelta) -> list[ClaimedDataset]:
        """Mark up to `limit` claimable rows as `worker`'s, most popular first."""
        now = utcnow()
        candidates = (
            sa.select(datasets.c.id)
            .where(self.claimable(now - stale_after))
            .order_by(
                sa.func.coalesce(datasets.c.like_count, -1).desc(),
                sa.func.coalesce(datasets.c.download_count, -1).desc(),
                datasets.c.id,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
            .scalar_subquery()
        )
        stmt = (
            sa.update(datasets)
            .where(datasets.c.id.in_(candidates))
            .values(
                enrichment_status=EnrichmentStatus.IN_PROGRESS, enrichment_claimed_by=worker, enrichment_claimed_at=now
            )
            .returning(
                datasets.c.id,
                datasets.c.external_id,
                datasets.c.enrichment_attempts,
                datasets.c.like_count,
                datasets.c.download_count,
            )
        )
        with store.engine.begin() as conn:
            rows = [ClaimedDataset(*r) for r in conn.execute(stmt)]
        # RETURNING has no order: restore the popularity order the subquery chose.
        return sorted(
            rows,
            key=lambda r: (
                -(r.like_count if r.like_count is not None else -1),
                -(r.download_count if r.download_count is not None else -1),
                r.id,
            ),
        )

    def record_success(
        self,
        store: CatalogStore,
        claim: ClaimedDataset,
        worker: str,
        values: Mapping[str, Any],
        attempt: Attempt,
        source_meta_extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write the enriched values and mark the row enriched; False if our claim was lost meanwhile."""
        unknown = set(values) - self.columns
        if unknown:
            raise ValueError(f"record_success got columns it may not write: {sorted(unknown)}")
        now = utcnow()
        with store.engine.begin() as conn:
            update: dict[str, Any] = {
                **values,
                **_RELEASED,
                "enrichment_status": EnrichmentStatus.ENRICHED,
                "last_enriched_at": now,
                "enrichment_attempts": datasets.c.enrichment_attempts + 1,
                "last_enrichment_error": None,
                "updated_at": now,
            }
            if source_meta_extra:
                current = conn.execute(sa.select(datasets.c.source_meta).where(datasets.c.id == claim.id)).scalar()
                update["source_meta"] = {**(current if isinstance(current, dict) else {}), **source_meta_extra}
            written = conn.execute(sa.update(datasets).where(_ours(claim.id, worker)).values(update)).rowcount
            if written:
                self._log(conn, claim.id, claim.attempts + 1, attempt, now)
            return bool(written)

    def record_failure(
        self,
        store: CatalogStore,
        claim: ClaimedDataset,
        worker: str,
        attempt: Attempt,
        *,
        max_attempts: int,
        gone: bool = False,
    ) -> str | None:
        """Count a failed attempt; the row goes back to pending, or to failed after `max_attempts`
        (at once when `gone`: the dataset no longer exists, and the row is deactivated).
        Returns the row's new status, or None if our claim was lost meanwhile."""
        now = utcnow()
        attempts = claim.attempts + 1
        status = EnrichmentStatus.FAILED if gone or attempts >= max_attempts else EnrichmentStatus.PENDING
        update: dict[str, Any] = {
            **_RELEASED,
            "enrichment_status": status,
            "enrichment_attempts": datasets.c.enrichment_attempts + 1,
            "last_enrichment_error": f"{attempt.error_type}: {attempt.error_message}"[:2000],
            "updated_at": now,
        }
        if gone:
            update["is_active"] = False
        with store.engine.begin() as conn:
            written = conn.execute(sa.update(datasets).where(_ours(claim.id, worker)).values(update)).rowcount
            if written:
                self._log(conn, claim.id, attempts, attempt, now)
        return status if written else None

    def put_back(self, store: CatalogStore, claim: ClaimedDataset, worker: str, attempt: Attempt) -> None:
        """Log the attempt and put the row back to pending without counting it: the source
        refused (429) or failed as a whole, which says nothing about this dataset."""
        now = utcnow()
        with store.engine.begin() as conn:
            written = conn.execute(
                sa.update(datasets)
                .where(_ours(claim.id, worker))
                .values(**_RELEASED, enrichment_status=EnrichmentStatus.PENDING, updated_at=now)
            ).rowcount
            if written:
                self._log(conn, claim.id, claim.attempts + 1, attempt, now)

    def release(self, store: CatalogStore, ids: Sequence[int], worker: str) -> int:
        """Hand claimed rows we did not get to back to pending (batch stopped early)."""
        if not ids:
            return 0
        with store.engine.begin() as conn:
            return conn.execute(
                sa.update(datasets)
                .where(
                    datasets.c.id.in_(list(ids)),
                    datasets.c.enrichment_claimed_by == worker,
                    datasets.c.enrichment_status == EnrichmentStatus.IN_PROGRESS,
                )
                .values(**_RELEASED, enrichment_status=EnrichmentStatus.PENDING)
            ).rowcount

    def count_claimable(self, store: CatalogStore, stale_after: timedelta) -> int:
        """Rows still waiting (pending, or claimed by a run that died)."""
        query = sa.select(sa.func.count()).select_from(datasets).where(self.claimable(utcnow() - stale_after))
        with store.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def _log(self, conn: sa.Connection, dataset_id: int, attempt_no: int, attempt: Attempt, now: datetime) -> None:
        conn.execute(
            sa.insert(enrichment_log).values(
                dataset_id=dataset_id,
                stage=self.stage,
                result=attempt.result,
                attempt=attempt_no,
                error_type=attempt.error_type,
                error_message=attempt.error_message,
                duration_ms=attempt.duration_ms,
                run_id=attempt.run_id,
                logged_at=now,
            )
        )


def _ours(dataset_id: int, worker: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        datasets.c.id == dataset_id,
        datasets.c.enrichment_claimed_by == worker,
        datasets.c.enrichment_status == EnrichmentStatus.IN_PROGRESS,
    )
