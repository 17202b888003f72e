"""The `hf_datasets` asset: one daily partition (or a range, in one run) of Hub datasets."""

from datetime import UTC

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.metadata import catalog_state_table, preview_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.partitions import FIRST_PARTITION_START, hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets


class HfDatasetsConfig(dg.Config):
    limit: int | None = Field(default=None, ge=1, description="Stop after this many datasets; unset = no cap.")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Rows per upsert transaction.")


def window_for(time_window: dg.TimeWindow) -> SyncWindow:
    start = time_window.start.astimezone(UTC)
    # The first partition also takes everything older, so "all partitions" means every dataset.
    return SyncWindow(None if start <= FIRST_PARTITION_START else start, time_window.end.astimezone(UTC))


@dg.asset(
    partitions_def=hf_daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="huggingface",
    kinds={"python", "sql"},
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
    return dg.MaterializeResult(
        metadata={
            "total_fetched": report.fetched,
            "total_inserted": report.counts.inserted,
            "total_updated": report.counts.updated,
            "total_unchanged": report.counts.unchanged,
            "skipped_malformed": report.skipped_malformed,
            "skipped_newer": report.skipped_newer,
            "cleaned": report.cleaned,
            "items_scanned": report.items_scanned,
            "pages_read": report.pages_read,
            "window_start": window.start.isoformat() if window.start else "(open: everything older)",
            "window_end": window.end.isoformat(),
            "stop_reason": report.stop_reason,
            "preview": preview_table(report.preview),
            "catalog_state": catalog_state_table(store),
        }
    )
