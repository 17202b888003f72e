"""Phase 2: enrich claimed Kaggle rows from GetDatasetMetadata + ListDatasetFiles.

One dataset's failure never stops the others; a 429 stops the whole batch at once (every
further call would be refused too and would only prolong the throttling). Plain functions,
testable without Dagster.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.enrichment_queue import Attempt, ClaimedDataset, EnrichmentQueue
from dataset_catalog.catalog.schema import EnrichmentResult, EnrichmentStatus
from dataset_catalog.errors import CredentialsError, redact
from dataset_catalog.kaggle.client import KaggleClient, KaggleNotFoundError, KaggleRateLimitError
from dataset_catalog.kaggle.mapping import ENRICHED_COLUMNS, SOURCE, enrichment_values, files_meta

logger = logging.getLogger(__name__)
DEFAULT_CLAIM_TIMEOUT = timedelta(hours=1)
# Pending Kaggle rows, most voted first; attempts are logged as stage "api_metadata".
KAGGLE_QUEUE = EnrichmentQueue(source=SOURCE, stage="api_metadata", columns=ENRICHED_COLUMNS)


@dataclass
class EnrichReport:
    claimed: int = 0
    enriched: int = 0
    failed: int = 0  # failed attempts this run (each counted on its row)
    gave_up: int = 0  # rows that reached 'failed' this run
    deactivated: int = 0  # 404: the dataset is gone
    rate_limited: int = 0
    retry_after: float | None = None
    released: int = 0  # claimed but not attempted (batch stopped by a 429)
    lost_claims: int = 0
    remaining_pending: int = 0
    stop_reason: str = "batch done"
    outcomes: list[dict[str, Any]] = field(default_factory=list)


def enrich_one(client: KaggleClient, claim: ClaimedDataset) -> tuple[dict[str, Any], dict[str, Any]]:
    info = client.get_dataset_metadata(claim.external_id)
    files = client.list_dataset_files(claim.external_id)
    return enrichment_values(info, files), files_meta(files)


def enrich_pending(
    client: KaggleClient,
    store: CatalogStore,
    *,
    worker: str,
    run_id: str | None,
    batch_size: int = 50,
    max_attempts: int = 3,
    claim_timeout: timedelta = DEFAULT_CLAIM_TIMEOUT,
    secrets: list[str | None] | None = None,
    log: logging.Logger | Any = logger,
) -> EnrichReport:
    """Claim up to `batch_size` pending rows (most voted first) and enrich them one by one."""
    report = EnrichReport()
    claims = KAGGLE_QUEUE.claim(store, worker, batch_size, claim_timeout)
    report.claimed = len(claims)
    log.info(f"Claimed {len(claims)} pending Kaggle datasets as {worker}")
    done = 0
    try:
        for claim in claims:
            started = time.monotonic()

            def attempt(result: str, exc: BaseException | None = None) -> Attempt:
                message = redact(str(exc), secrets or [])[:2000] if exc is not None else None
                return Attempt(result, int((time.monotonic() - started) * 1000), run_id,
                               type(exc).__name__ if exc is not None else None, message)

            try:
                values, meta = enrich_one(client, claim)
            except KaggleRateLimitError as exc:
                KAGGLE_QUEUE.record_rate_limited(store, claim, worker, attempt(EnrichmentResult.RATE_LIMITED, exc))
                done += 1
                report.rate_limited += 1
                report.retry_after = exc.retry_after
                report.stop_reason = f"rate limited at {claim.external_id} (Retry-After {exc.retry_after})"
                log.warning(f"Kaggle answered 429 at {claim.external_id}: stopping this batch; rows stay pending")
                break
            except CredentialsError:
                raise  # every other dataset would fail the same way: fail the run, release the claims
            except KaggleNotFoundError as exc:
                status = KAGGLE_QUEUE.record_failure(store, claim, worker, attempt(EnrichmentResult.FAILED, exc),
                                                     max_attempts=max_attempts, gone=True)
                done += 1
                report.failed += 1
                report.deactivated += status is not None
                report.gave_up += status == EnrichmentStatus.FAILED
                report.lost_claims += status is None
                log.warning(f"{claim.external_id}: gone from Kaggle (404), deactivated")
                report.outcomes.append({"external_id": claim.external_id, "result": "gone"})
            except Exception as exc:  # isolated per dataset: recorded, counted, and the batch goes on
                status = KAGGLE_QUEUE.record_failure(store, claim, worker, attempt(EnrichmentResult.FAILED, exc),
                                                     max_attempts=max_attempts)
                done += 1
                report.failed += 1
                report.gave_up += status == EnrichmentStatus.FAILED
                report.lost_claims += status is None
                log.warning(f"{claim.external_id}: attempt {claim.attempts + 1} failed "
                            f"({type(exc).__name__}: {redact(str(exc), secrets or [])[:300]}); now {status}")
                report.outcomes.append({"external_id": claim.external_id, "result": f"failed -> {status}"})
            else:
                written = KAGGLE_QUEUE.record_success(store, claim, worker, values, attempt(EnrichmentResult.SUCCESS),
                                                      meta)
                done += 1
                report.enriched += written
                report.lost_claims += not written
                report.outcomes.append({"external_id": claim.external_id, "result": "enriched",
                                        "files": meta["kaggle_file_count"], "columns": len(values["column_names"])})
    finally:
        # Rows claimed but never attempted (429, or an error ending the run) go straight back.
        report.released = KAGGLE_QUEUE.release(store, [c.id for c in claims[done:]], worker)
    report.remaining_pending = KAGGLE_QUEUE.count_claimable(store, claim_timeout)
    log.info(f"Enriched {report.enriched}, failed {report.failed}, rate limited {report.rate_limited}; "
             f"{report.remaining_pending} still pending")
    return report
