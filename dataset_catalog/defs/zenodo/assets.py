"""The `zenodo_datasets` asset: one daily partition (or a chunk of days, in one run) of Zenodo datasets.

A run lists the OAI-PMH records whose datestamp falls in its window, once; each partition's
materialization then carries its own day's counts, and what belongs to the run as a whole is
recorded once, on the newest partition of the run.
"""

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.daily_partitions import partition_counts, window_for
from dataset_catalog.defs.common.metadata import preview_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.zenodo.partitions import (
    FIRST_PARTITION_START,
    MAX_PARTITIONS_PER_RUN,
    ZENODO_PARTITIONS_START,
    zenodo_daily_partitions,
)
from dataset_catalog.defs.zenodo.resources import ZenodoResource
from dataset_catalog.zenodo.mapping import SOURCE
from dataset_catalog.zenodo.sync import DayCounts, sync_zenodo

POOL = "zenodo_api"


class ZenodoDatasetsConfig(dg.Config):
    limit: int | None = Field(default=None, ge=1, description="Stop after this many records; unset = no cap.")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Works per upsert transaction.")


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    partitions_def=zenodo_daily_partitions,
    backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_PARTITIONS_PER_RUN),
    pool=POOL,
    group_name="zenodo",
    description=(
        "Zenodo datasets (OAI-PMH set openaire_data) whose record was updated in the partition's UTC day(s); "
        "versions of a work collapse into one row keyed by the concept record."
    ),
)
def zenodo_datasets(
    context: dg.AssetExecutionContext,
    config: ZenodoDatasetsConfig,
    zenodo: ZenodoResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    window = window_for(context.partition_time_window, FIRST_PARTITION_START)
    with zenodo.harvester(log=context.log) as harvester:
        context.log.info(
            f"Listing {harvester.endpoint} (set {harvester.set_spec}) for datestamps in "
            f"[{window.start or '-inf'}, {window.end})"
        )
        report = sync_zenodo(
            harvester.pages(window.start, window.end),
            store,
            window,
            batch_size=config.batch_size,
            limit=config.limit,
            log=context.log,
        )
        walk, http = harvester.stats, harvester.transport_stats
    context.log.info(f"Done: {report.works_fetched} works from {report.versions_taken} records; {report.stop_reason}")
    keys = list(context.partition_keys)
    for key, day in partition_counts(
        report.by_day(), report.skipped_malformed, keys, ZENODO_PARTITIONS_START, DayCounts
    ).items():
        context.add_asset_metadata(
            {
                "total_fetched": day.fetched,
                "total_inserted": day.inserted,
                "total_updated": day.updated,
                "total_unchanged": day.unchanged,
                "skipped_malformed": day.malformed,
                "skipped_deleted": day.deleted,
            },
            partition_key=key,
        )
    context.add_asset_metadata(
        {
            "run_partitions": len(keys),
            "run_total_fetched": report.works_fetched,
            "run_total_inserted": report.counts.inserted,
            "run_total_updated": report.counts.updated,
            "run_total_unchanged": report.counts.unchanged,
            "run_skipped_malformed": report.skipped_malformed,
            "run_skipped_deleted": report.skipped_deleted,
            "versions_withdrawn": report.versions_withdrawn,
            "works_withdrawn": report.works_withdrawn,
            "malformed_samples": dg.MetadataValue.json(report.malformed_samples),
            "records_scanned": report.records_scanned,
            "versions_taken": report.versions_taken,
            "skipped_outside_window": report.skipped_outside_window,
            "complete_list_size": report.complete_list_size if report.complete_list_size is not None else -1,
            "pages_read": report.pages_read,
            "http_requests": http.requests,
            "http_retries": http.retries,
            "rate_limited_429": http.rate_limited,
            "rate_limit_waits": http.rate_limit_waits,
            "waited_seconds": round(http.waited_seconds, 2),
            "token_restarts": walk.token_restarts,
            "window_start": window.start.isoformat() if window.start else "(open: everything older)",
            "window_end": window.end.isoformat(),
            "stop_reason": report.stop_reason,
            "preview": preview_table(report.preview),
            "dagster/row_count": store.count_datasets(SOURCE),
        },
        partition_key=keys[-1],
    )
    return dg.MaterializeResult()
