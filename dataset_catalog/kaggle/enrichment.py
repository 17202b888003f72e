"""Phase 2: enrich claimed Kaggle rows from GetDatasetMetadata + ListDatasetFiles.

One dataset's failure never stops the others and counts an attempt on its row only (after
max_attempts the row is failed). Failures of Kaggle as a whole count on no row:
- a 429 stops the whole batch at once (every further call would be refused too and would only
  prolong the throttling);
- a circuit breaker: when a call fails as if Kaggle were down (5xx, timeouts, trickles, dropped
  connections, after the client's retries), the next dataset decides (or, after the batch's last
  dataset, a one-item listing). If it fails alike, Kaggle is down: the rows go back to pending
  uncounted, the rest are released, and the report says `source_unavailable` (the asset then
  fails, so the UI shows the outage). If it answers, the failure was the dataset's own and counts.
A run also stops after `max_run_seconds`. Plain functions, testable without Dagster.
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
from dataset_catalog.kaggle.client import (
    KaggleClient,
    KaggleNotFoundError,
    KaggleRateLimitError,
    KaggleUnavailableError,
)
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
    source_unavailable: bool = False  # the breaker tripped: Kaggle did not answer
    put_back: int = 0  # attempted, back to pending uncounted (429, Kaggle unavailable)
    released: int = 0  # claimed but not attempted (the batch stopped)
    lost_claims: int = 0
    remaining_pending: int = 0
    stop_reason: str = "batch done"
    outcomes: list[dict[str, Any]] = field(default_factory=list)


def enrich_one(client: KaggleClient, claim: ClaimedDataset) -> tuple[dict[str, Any], dict[str, Any]]:
    info = client.get_dataset_metadata(claim.external_id)
    files = client.list_dataset_files(claim.external_id)
    return enrichment_values(claim.external_id, info, files), files_meta(files)


def _kaggle_answers(client: KaggleClient) -> bool:
    try:
        client.list_datasets("hottest", page=1, page_size=1)
    except KaggleUnavailableError:
        return False
    return True


def enrich_pending(
    client: KaggleClient,
    store: CatalogStore,
    *,
    worker: str,
    run_id: str | None,
    batch_size: int = 50,
    max_attempts: int = 3,
    claim_timeout: timedelta = DEFAULT_CLAIM_TIMEOUT,
    max_run_seconds: float | None = None,
    secrets: list[str | None] | None = None,
    log: logging.Logger | Any = logger,
) -> EnrichReport:
    """Claim up to `batch_size` pending rows (most voted first) and enrich them one by one,
    for at most `max_run_seconds` (the rest go back to pending)."""
    report = EnrichReport()
    claims = KAGGLE_QUEUE.claim(store, worker, batch_size, claim_timeout)
    report.claimed = len(claims)
    log.info(f"Claimed {len(claims)} pending Kaggle datasets as {worker}")
    started = time.monotonic()
    done = 0
    # A dataset whose call failed as if Kaggle were down, until the next dataset shows whether
    # Kaggle is (the next one fails alike: the breaker trips) or it was this dataset (it answers).
    suspect: tuple[ClaimedDataset, Exception] | None = None

    def put_back(claim: ClaimedDataset, result: str, exc: BaseException, duration_ms: int = 0) -> None:
        message = redact(str(exc), secrets or [])[:2000]
        KAGGLE_QUEUE.put_back(store, claim, worker, Attempt(result, duration_ms, run_id, type(exc).__name__, message))
        report.put_back += 1

    def count_failure(claim: ClaimedDataset, exc: Exception, duration_ms: int, gone: bool = False) -> None:
        message = redact(str(exc), secrets or [])[:2000]
        attempt = Attempt(EnrichmentResult.FAILED, duration_ms, run_id, type(exc).__name__, message)
        status = KAGGLE_QUEUE.record_failure(store, claim, worker, attempt, max_attempts=max_attempts, gone=gone)
        report.failed += 1
        report.deactivated += gone and status is not None
        report.gave_up += status == EnrichmentStatus.FAILED
        report.lost_claims += status is None
        if gone:
            log.warning(f"{claim.external_id}: gone from Kaggle (404), deactivated")
        else:
            log.warning(
                f"{claim.external_id}: attempt {claim.attempts + 1} failed ({type(exc).__name__}: "
                f"{message[:300]}); now {status}"
            )
        report.outcomes.append({"external_id": claim.external_id, "result": "gone" if gone else f"failed -> {status}"})

    def judge_suspect() -> None:  # the last call answered: the suspect's failure was its own
        nonlocal suspect
        if suspect is not None:
            count_failure(suspect[0], suspect[1], 0)
            suspect = None

    try:
        for claim in claims:
            if max_run_seconds is not None and time.monotonic() - started > max_run_seconds:
                report.stop_reason = f"run time budget of {max_run_seconds:g} s used up"
                log.warning(f"Stopping: the run's time budget of {max_run_seconds:g} s is used up")
                break
            call_started = time.monotonic()
            try:
                values, meta = enrich_one(client, claim)
            except KaggleRateLimitError as exc:
                done += 1
                put_back(claim, EnrichmentResult.RATE_LIMITED, exc, int((time.monotonic() - call_started) * 1000))
                report.rate_limited += 1
                report.retry_after = exc.retry_after
                report.stop_reason = f"rate limited at {claim.external_id} (Retry-After {exc.retry_after})"
                log.warning(f"Kaggle answered 429 at {claim.external_id}: stopping this batch; rows stay pending")
                break
            except CredentialsError:
                raise  # every other dataset would fail the same way: fail the run, release the claims
            except KaggleUnavailableError as exc:
                done += 1
                if suspect is None:
                    suspect = (claim, exc)
                    log.warning(f"{claim.external_id}: Kaggle did not answer ({exc}); trying the next dataset")
                    continue
                put_back(claim, EnrichmentResult.SOURCE_UNAVAILABLE, exc, int((time.monotonic() - call_started) * 1000))
                report.source_unavailable = True
                report.stop_reason = f"Kaggle unavailable: {redact(str(exc), secrets or [])[:500]}"
                log.error(f"Kaggle did not answer for two datasets in a row: stopping this batch ({exc})")
                break
            except KaggleNotFoundError as exc:
                done += 1
                judge_suspect()
                count_failure(claim, exc, int((time.monotonic() - call_started) * 1000), gone=True)
            except Exception as exc:  # isolated per dataset: recorded, counted, and the batch goes on
                done += 1
                judge_suspect()
                count_failure(claim, exc, int((time.monotonic() - call_started) * 1000))
            else:
                done += 1
                judge_suspect()
                attempt = Attempt(EnrichmentResult.SUCCESS, int((time.monotonic() - call_started) * 1000), run_id)
                written = KAGGLE_QUEUE.record_success(store, claim, worker, values, attempt, meta)
                report.enriched += written
                report.lost_claims += not written
                report.outcomes.append(
                    {
                        "external_id": claim.external_id,
                        "result": "enriched",
                        "files": meta["kaggle_file_count"],
                        "columns": len(values["column_names"]),
                    }
                )
        if suspect is not None and not report.rate_limited:
            # No dataset came after the suspect: one cheap call (a one-item listing) decides instead.
            if _kaggle_answers(client):
                judge_suspect()
            else:
                report.source_unavailable = True
                report.stop_reason = f"Kaggle unavailable: {redact(str(suspect[1]), secrets or [])[:500]}"
    finally:
        # Not the dataset's fault (Kaggle is down, or the run stopped before we knew): uncounted.
        if suspect is not None:
            put_back(suspect[0], EnrichmentResult.SOURCE_UNAVAILABLE, suspect[1])
        # Rows claimed but never attempted (a stop, or an error ending the run) go straight back.
        report.released = KAGGLE_QUEUE.release(store, [c.id for c in claims[done:]], worker)
    report.remaining_pending = KAGGLE_QUEUE.count_claimable(store, claim_timeout)
    log.info(
        f"Enriched {report.enriched}, failed {report.failed}, rate limited {report.rate_limited}, put back "
        f"{report.put_back}; {report.remaining_pending} still pending"
    )
    return report
