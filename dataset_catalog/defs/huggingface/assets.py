"""The `hf_datasets` asset: one daily partition (or a range, in one run) of Hub datasets.

A range run walks the listing once; each partition's materialization then carries its own
day's counts, and what belongs to the run as a whole (totals, the walk, a preview, the source's
row count) is recorded once, on the newest partition of the range.
"""

import dagster as dg

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.daily_partitions import DailySyncConfig, daily_run
from dataset_catalog.defs.common.metadata import load_result
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.partitions import FIRST_PARTITION_START, hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.huggingface.mapping import SOURCE
from dataset_catalog.huggingface.sync import sync_hf_datasets


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    partitions_def=hf_daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="huggingface",
    description="Hugging Face Hub datasets last modified in the partition's UTC day(s), upserted into the catalog.",
)
def hf_datasets(
    context: dg.AssetExecutionContext,
    config: DailySyncConfig,
    huggingface: HuggingFaceResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    partitions = daily_run(context, FIRST_PARTITION_START)
    window = partitions.window
    store = catalog.get_store()
    listing = huggingface.listing()
    context.log.info(f"Listing {listing.url} for lastModified in [{window.start or '-inf'}, {window.end})")
    walk = sync_hf_datasets(
        listing.pages(), store, window, limit=config.limit, batch_size=config.batch_size, log=context.log
    )
    context.log.info(f"Done: {walk.load.loaded} datasets in window; walk ended: {walk.stop_reason}")
    return load_result(
        context,
        walk.load,
        row_count=store.count_datasets(SOURCE),
        run={
            "skipped_newer": walk.skipped_newer,
            "cleaned": walk.cleaned,
            "items_scanned": walk.items_scanned,
            "pages_read": walk.pages_read,
            "stop_reason": walk.stop_reason,
        },
        partitions=partitions,
    )
