"""The `hf_datasets` asset: one daily partition (or a range, in one run) of Hub datasets.

A range run walks the listing once; each partition's materialization then carries its own
day's counts, and what belongs to the run as a whole (totals, the walk, a preview, the source's
row count) is recorded once, on the newest partition of the range.
"""

from datetime import UTC

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.metadata import preview_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.partitions import FIRST_PARTITION_START, HF_PARTITIONS_START, hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.huggingface.mapping import SOURCE
from dataset_catalog.huggingface.sync import DayCounts, SyncReport, SyncWindow, sync_hf_datasets


class HfDatasetsConfig(dg.Config):
    limit: int | None = Field(default=None, ge=1, description="Stop after this many datasets; unset = no cap.")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Rows per upsert transaction.")


def window_for(time_window: dg.TimeWindow) -> SyncWindow:
    start = time_window.start.astimezone(UTC)
    # The first partition also takes everything older, so "all partitions" means every dataset.
    return SyncWindow(None if start <= FIRST_PARTITION_START else start, time_window.end.astimezone(UTC))


def partition_counts(report: SyncReport, partition_keys: list[str]) -> dict[str, DayCounts]:
    """Each partition's own counts (days before the first partition belong to it). A malformed
    item without a readable date belongs to no day: to the partition of a one-partition run,
    else only to the run's total."""
    counts = {key: DayCounts() for key in partition_keys}
    for day, day_counts in report.by_day().items():
        into = counts.setdefault(max(day, HF_PARTITIONS_START), DayCounts())
        for name in ("inserted", "updated", "unchanged", "malformed", "cleaned"):
            setattr(into, name, getattr(into, name) + getattr(day_counts, name))
    if len(partition_keys) == 1:
        counts[partition_keys[0]].malformed = report.skipped_malformed
    return counts


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
    window = window_for(context.partition_time_window)
    listing = huggingface.listing()
    context.log.info(f"Listing {listing.url} for lastModified in [{window.start or '-inf'}, {window.end})")
    report = sync_hf_datasets(
        listing.pages(), store, window, limit=config.limit, batch_size=config.batch_size, log=context.log
    )
    context.log.info(f"Done: {report.fetched} datasets in window; walk ended: {report.stop_reason}")
    keys = list(context.partition_keys)
    for key, day in partition_counts(report, keys).items():
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
