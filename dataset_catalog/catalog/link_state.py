"""Link-check state of datasets: which rows to check next, and recording results in one transaction.

Failure counting (statuses are schema.LinkStatus):
- `ok` resets `link_failure_count` to 0 and reactivates a row the janitor had deactivated.
- every other status except `blocked` adds 1 to `link_failure_count` (consecutive failed checks).
- a row is deactivated when the latest failure is definitive (404/410/invalid) and the count
  reaches `failure_threshold`, or when the count reaches `transient_threshold` whatever the kind
  (a host down for that many checks in a row is treated as gone).
- `blocked` (the address policy refused) changes neither count nor activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from dataset_catalog.catalog.engine import in_list
from dataset_catalog.catalog.schema import LinkStatus, datasets
from dataset_catalog.catalog.store import CatalogStore


@dataclass(frozen=True)
class LinkThresholds:
    failure_threshold: int = 3
    transient_threshold: int = 10

    def __post_init__(self):
        if self.failure_threshold < 1 or self.transient_threshold < self.failure_threshold:
            raise ValueError("need 1 <= failure_threshold <= transient_threshold")


@dataclass(frozen=True)
class LinkOutcome:
    dataset_id: int
    status: str
    http_status: int | None
    checked_at: datetime
    definitive: bool  # a 404/410-class failure, as opposed to a transient one


@dataclass(frozen=True)
class LinkRecordCounts:
    recorded: int = 0
    deactivated: int = 0
    reactivated: int = 0


def next_state(is_active: bool, failures: int, outcome: LinkOutcome, thresholds: LinkThresholds) -> tuple[bool, int]:
    """(is_active, link_failure_count) after `outcome`."""
    if outcome.status == LinkStatus.OK:
        return True, 0
    if outcome.status in LinkStatus.NEUTRAL:
        return is_active, failures
    failures += 1
    if (outcome.definitive and failures >= thresholds.failure_threshold) or failures >= thresholds.transient_threshold:
        return False, failures
    return is_active, failures


def select_link_batch(store: CatalogStore, batch_size: int, thresholds: LinkThresholds) -> list[tuple[int, str | None]]:
    """(id, url) of the rows to check next: never-checked first, then oldest `last_checked_at`.

    Active rows, plus rows this janitor deactivated (failure count at the threshold), so a
    later success can bring them back.
    """
    c = datasets.c
    query = (
        sa.select(c.id, c.url)
        .where(sa.or_(c.is_active.is_(True), c.link_failure_count >= thresholds.failure_threshold))
        .order_by(c.last_checked_at.asc().nulls_first(), c.id)
        .limit(batch_size)
    )
    with store.engine.connect() as conn:
        return [(row.id, row.url) for row in conn.execute(query)]


def record_link_outcomes(
    store: CatalogStore, outcomes: Sequence[LinkOutcome], thresholds: LinkThresholds
) -> LinkRecordCounts:
    """Write every outcome in one transaction (rows locked on PostgreSQL while we compute).

    `updated_at` is left alone: it means "the source data changed" (re-embedding keys off it).
    """
    if not outcomes:
        return LinkRecordCounts()
    c = datasets.c
    ids = [o.dataset_id for o in outcomes]
    deactivated = reactivated = 0
    params = []
    with store.engine.begin() as conn:
        current_query = sa.select(c.id, c.is_active, c.link_failure_count).where(in_list(conn, c.id, list(ids)))
        if store.dialect == "postgresql":
            current_query = current_query.with_for_update()
        current = {row.id: (bool(row.is_active), row.link_failure_count or 0) for row in conn.execute(current_query)}
        for outcome in outcomes:
            if outcome.dataset_id not in current:
                continue  # deleted meanwhile
            was_active, failures = current[outcome.dataset_id]
            is_active, failures = next_state(was_active, failures, outcome, thresholds)
            deactivated += was_active and not is_active
            reactivated += is_active and not was_active
            current[outcome.dataset_id] = (is_active, failures)
            params.append(
                {
                    "b_id": outcome.dataset_id,
                    "b_status": outcome.status,
                    "b_http": outcome.http_status,
                    "b_checked": outcome.checked_at,
                    "b_failures": failures,
                    "b_active": is_active,
                }
            )
        if params:
            conn.execute(
                sa.update(datasets)
                .where(c.id == sa.bindparam("b_id"))
                .values(
                    link_status=sa.bindparam("b_status"),
                    link_http_status=sa.bindparam("b_http"),
                    last_checked_at=sa.bindparam("b_checked"),
                    link_failure_count=sa.bindparam("b_failures"),
                    is_active=sa.bindparam("b_active"),
                ),
                params,
            )
    return LinkRecordCounts(len(params), deactivated, reactivated)
