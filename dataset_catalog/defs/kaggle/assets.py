"""The Kaggle assets: the Meta Kaggle seed (phase 1, on demand), API enrichment (phase 2) and
the latest datasets by a sort order (phase 3).

All run in pool `kaggle_api` (limited to 1 by the instance config); the resource's pacer keeps the
pace even if that limit is raised or a run is started outside the instance.
"""

from datetime import timedelta

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.metadata import load_result, markdown_table, records_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog.kaggle.enrichment import enrich_pending
from dataset_catalog.kaggle.latest import LATEST_SORT_ORDERS, check_sort_by, sync_latest
from dataset_catalog.kaggle.mapping import SOURCE
from dataset_catalog.kaggle.seed import meta_kaggle_cache_dir, seed_from_cache

KAGGLE_POOL = "kaggle_api"


class KaggleSeedConfig(dg.Config):
    # Measured at 500k rows into SQLite: 5k-row batches 17s of writing, 20k 8s, 50k 7s (commits
    # dominate); 20k keeps each transaction around a second.
    batch_size: int = Field(
        default=20_000, ge=1, le=100_000, description="Rows per upsert transaction (one commit each)."
    )
    force_redownload: bool = Field(
        default=False, description="Download the six Meta Kaggle CSVs again even if they are cached."
    )


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    pool=KAGGLE_POOL,
    group_name="kaggle",
    kinds={"python", "duckdb"},
    description=(
        "Every public Kaggle dataset Meta Kaggle knows, joined into owner/slug refs with title, "
        "description, license, tags and counts; rows start enrichment_status='pending'. Run on demand."
    ),
)
def kaggle_seeded_datasets(
    context: dg.AssetExecutionContext,
    config: KaggleSeedConfig,
    kaggle: KaggleResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    context.log.info(f"Meta Kaggle cache: {meta_kaggle_cache_dir()}")
    report = seed_from_cache(
        kaggle.get_client,
        store,
        force_redownload=config.force_redownload,
        batch_size=config.batch_size,
        log=context.log,
    )
    skipped = [[reason, count] for reason, count in report.skipped.items() if count]
    return dg.MaterializeResult(
        metadata={
            **report.metadata(),
            "source": "kaggle_meta_csv",
            "skipped_by_reason": dg.MetadataValue.md(markdown_table(("reason", "rows"), skipped or [["none", 0]])),
            "dagster/row_count": store.count_datasets(SOURCE),
        }
    )


class KaggleEnrichConfig(dg.Config):
    batch_size: int = Field(default=50, ge=1, le=10_000, description="Pending datasets claimed per run.")
    max_attempts: int = Field(default=3, ge=1, le=100, description="Failed attempts before a row is 'failed'.")
    claim_timeout_minutes: int = Field(
        default=60, ge=1, description="A claim older than this (a killed run) is taken over by the next run."
    )
    max_run_seconds: int = Field(
        default=1800, ge=1, description="Stop enriching after this long; the rows not reached go back to pending."
    )


class KaggleLatestConfig(dg.Config):
    limit: int = Field(default=100, ge=1, le=100_000, description="Datasets to take from the top of the listing.")
    sort_by: str = Field(default="updated", description=f"One of: {', '.join(LATEST_SORT_ORDERS)}.")


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    deps=[kaggle_seeded_datasets],
    pool=KAGGLE_POOL,
    group_name="kaggle",
    description="Pending Kaggle rows, most voted first, enriched via GetDatasetMetadata + ListDatasetFiles "
    "(description, keywords, license, usability, files, formats, columns, size). Stops at a 429.",
)
def kaggle_enriched_datasets(
    context: dg.AssetExecutionContext,
    config: KaggleEnrichConfig,
    kaggle: KaggleResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    client = kaggle.get_client()
    report = enrich_pending(
        client,
        store,
        worker=context.run.run_id,
        run_id=context.run.run_id,
        batch_size=config.batch_size,
        max_attempts=config.max_attempts,
        claim_timeout=timedelta(minutes=config.claim_timeout_minutes),
        max_run_seconds=config.max_run_seconds,
        secrets=kaggle.credentials().secrets,
        log=context.log,
    )
    metadata = {
        "claimed": report.claimed,
        "enriched": report.enriched,
        "failed": report.failed,
        "gave_up": report.gave_up,
        "deactivated": report.deactivated,
        "rate_limited": report.rate_limited,
        "retry_after_seconds": report.retry_after if report.retry_after is not None else -1,
        "source_unavailable": report.source_unavailable,
        "put_back": report.put_back,
        "released": report.released,
        "lost_claims": report.lost_claims,
        "remaining_pending": report.remaining_pending,
        "stop_reason": report.stop_reason,
        "outcomes": records_table(report.outcomes[:20], ("external_id", "result")),
        "dagster/row_count": store.count_datasets(SOURCE),
    }
    if report.source_unavailable:
        # A failed run is what shows an outage in the UI; no row was charged an attempt for it.
        raise dg.Failure(
            description=f"{report.stop_reason}. Enriched {report.enriched} before the outage; {report.put_back} "
            f"rows went back to pending without an attempt counted and {report.released} were released. "
            "Re-run when Kaggle answers.",
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata=metadata)


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    pool=KAGGLE_POOL,
    group_name="kaggle",
    description="The first `limit` Kaggle datasets by `sort_by` (updated, hottest, votes), upserted: new refs "
    "arrive as pending for the enrichment, known rows keep their enrichment.",
)
def kaggle_latest_datasets(
    context: dg.AssetExecutionContext,
    config: KaggleLatestConfig,
    kaggle: KaggleResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    check_sort_by(config.sort_by)  # before any credential lookup or API call
    store = catalog.get_store()
    report = sync_latest(kaggle.get_client(), store, sort_by=config.sort_by, limit=config.limit, log=context.log)
    return load_result(
        context,
        report.load,
        row_count=store.count_datasets(SOURCE),
        run={
            "sort_by": config.sort_by,
            "total_listed": report.listed,
            "pages_read": report.pages_read,
            "stop_reason": report.stop_reason,
        },
    )
