"""The `zenodo_datasets` asset: one daily partition (or a chunk of days, in one run) of Zenodo datasets.

A run lists the OAI-PMH records whose datestamp falls in its window, once; each partition's
materialization then carries its own day's counts, and what belongs to the run as a whole is
recorded once, on the newest partition of the run.
"""

import dagster as dg

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.daily_partitions import DailySyncConfig, daily_run
from dataset_catalog.defs.common.metadata import load_result
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.zenodo.partitions import (
    FIRST_PARTITION_START,
    MAX_PARTITIONS_PER_RUN,
    zenodo_daily_partitions,
)
from dataset_catalog.defs.zenodo.resources import ZenodoResource
from dataset_catalog.zenodo.mapping import SOURCE
from dataset_catalog.zenodo.sync import sync_zenodo

POOL = "zenodo_api"


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
    config: DailySyncConfig,
    zenodo: ZenodoResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    partitions = daily_run(context, FIRST_PARTITION_START)
    window = partitions.window
    store = catalog.get_store()
    with zenodo.harvester(log=context.log) as harvester:
        context.log.info(
            f"Listing {harvester.endpoint} (set {harvester.set_spec}) for datestamps in "
            f"[{window.start or '-inf'}, {window.end})"
        )
        harvest = sync_zenodo(
            harvester.pages(window.start, window.end),
            store,
            window,
            batch_size=config.batch_size,
            limit=config.limit,
            log=context.log,
        )
        walk, http = harvester.stats, harvester.transport_stats
    context.log.info(f"Done: {harvest.load.loaded} works from {harvest.versions_taken} records; {harvest.stop_reason}")
    complete_list_size = harvest.complete_list_size
    return load_result(
        context,
        harvest.load,
        row_count=store.count_datasets(SOURCE),
        run={
            "versions_withdrawn": harvest.versions_withdrawn,
            "works_withdrawn": harvest.works_withdrawn,
            "malformed_samples": dg.MetadataValue.json(harvest.malformed_samples),
            "records_scanned": harvest.records_scanned,
            "versions_taken": harvest.versions_taken,
            "skipped_outside_window": harvest.skipped_outside_window,
            "complete_list_size": complete_list_size if complete_list_size is not None else -1,
            "pages_read": harvest.pages_read,
            "http_requests": http.requests,
            "http_retries": http.retries,
            "rate_limited_429": http.rate_limited,
            "rate_limit_waits": http.rate_limit_waits,
            "waited_seconds": round(http.waited_seconds, 2),
            "token_restarts": walk.token_restarts,
            "stop_reason": harvest.stop_reason,
        },
        partitions=partitions,
    )
