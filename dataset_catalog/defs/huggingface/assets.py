"""The `hf_datasets` asset: one daily partition (or a range, in one run) of Hub datasets.

A range run walks the listing once; each partition's materialization then carries its own
day's counts, and what belongs to the run as a whole (totals, the walk, a preview, the source's
row count) is recorded once, on the newest partition of the range.
"""

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.daily_partitions import partition_counts, window_for
from dataset_catalog.defs.common.metadata import preview_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.partitions import FIRST_PARTITION_START, HF_PARTITIONS_START, hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.huggingface.mapping import SOURCE
from dataset_catalog.huggingface.sync import DayCounts, sync_hf_datasets


class HfDatasetsConfig(dg.Config):
    limit: int | None = Field(default=None, ge=1, description="Stop after this many datasets; unset = no cap.")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Rows per upsert transaction.")


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
    config: HfDatasetsConfig,
    huggingface: HuggingFaceResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    window = window_for(context.partition_time_window, FIRST_PARTITION_START)
    listing = huggingface.listing()
    context.log.info(f"Listing {listing.url} for lastModified in [{window.start or '-inf'}, {window.end})")
    report = sync_hf_datasets(
        listing.pages(), store, window, limit=config.limit, batch_size=config.batch_size, log=context.log
    )
    context.log.info(f"Done: {report.fetched} datasets in window; walk ended: {report.stop_reason}")
    keys = list(context.partition_keys)
    for key, day in partition_counts(
        report.by_day(), report.skipped_malformed, keys, HF_PARTITIONS_START, DayCounts
    ).items():
        context.add_asset_metadata(
            {
                "total_fetched": day.fetched,
                "total_inserted": day.inserted,
                "total_updated": day.updated,
                "total_unchanged": day.unchanged,
                "skipped_malformed": day.malformed,
            },
            partition_key=key,
        )
    context.add_asset_metadata(
        {
            "run_partitions": len(keys),
            "run_total_fetched": report.fetched,
            "run_total_inserted": report.counts.inserted,
            "run_total_updated": report.counts.updated,
            "run_total_unchanged": report.counts.unchanged,
            "run_skipped_malformed": report.skipped_malformed,
            "skipped_newer": report.skipped_newer,
            "cleaned": report.cleaned,
            "items_scanned": report.items_scanned,
            "pages_read": report.pages_read,
            "window_start": window.start.isoformat() if window.start else "(open: everything older)",
            "window_end": window.end.isoformat(),
            "stop_reason": report.stop_reason,
            "preview": preview_table(report.preview),
            "dagster/row_count": store.count_datasets(SOURCE),
        },
        partition_key=keys[-1],
    )
    return dg.MaterializeResult()
