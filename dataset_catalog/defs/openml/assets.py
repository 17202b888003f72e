"""The `openml_datasets` asset: every OpenML dataset, re-listed each run, details only for what changed."""

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.metadata import load_result
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.openml.resources import OpenMLResource
from dataset_catalog.openml.mapping import SOURCE
from dataset_catalog.openml.sync import sync_openml_datasets


class OpenMLDatasetsConfig(dg.Config):
    max_detail_fetches: int | None = Field(
        default=None, ge=0, description="Fetch details of at most this many datasets; the rest wait for the next run."
    )
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Rows per upsert transaction.")
    commit_seconds: float = Field(
        default=30.0, gt=0, description="Commit at least this often while details are fetched."
    )


@catalog_asset(
    source=SOURCE,
    writes_datasets=True,
    pool="openml_api",
    group_name="openml",
    description="Every OpenML dataset (re-listed each run: the listing has no dates), details fetched for new and "
    "changed ones (version or md5 checksum), deactivated ones marked inactive.",
)
def openml_datasets(
    context: dg.AssetExecutionContext,
    config: OpenMLDatasetsConfig,
    openml: OpenMLResource,
    catalog: CatalogResource,
) -> dg.MaterializeResult:
    store = catalog.get_store()
    client = openml.get_client()
    context.log.info(f"Listing {client.endpoint}/json/data/list (every status), {client.page_size} per page")
    try:
        walk = sync_openml_datasets(
            client,
            store,
            batch_size=config.batch_size,
            commit_seconds=config.commit_seconds,
            max_detail_fetches=config.max_detail_fetches,
            log=context.log,
        )
    finally:
        client.close()
    stats = client.stats
    context.log.info(
        f"Done: {walk.listed} listed, {walk.details_fetched} fetched, {walk.load.counts.written} written; "
        f"{stats.requests} requests ({stats.rate_limited} answered 429)"
    )
    return load_result(
        context,
        walk.load,
        row_count=store.count_datasets(SOURCE),
        run={
            "datasets_listed": walk.listed,
            "pages_read": walk.pages_read,
            "details_fetched": walk.details_fetched,
            "deactivated": walk.deactivated,
            "reactivated": walk.reactivated,
            "gone_from_listing": walk.gone,
            "malformed_samples": dg.MetadataValue.json(walk.malformed_samples),
            "detail_errors": walk.detail_errors,
            "detail_error_samples": dg.MetadataValue.json(walk.detail_error_samples),
            "deferred": walk.deferred,
            "new_inactive_skipped": walk.new_inactive_skipped,
            "duplicates_in_listing": walk.duplicates,
            "requests": stats.requests,
            "list_requests": stats.list_requests,
            "detail_requests": stats.detail_requests,
            "retries": stats.retries,
            "rate_limited": stats.rate_limited,
            "retry_after_waited_seconds": round(stats.waited_for_retry_after_seconds, 1),
            "stop_reason": walk.stop_reason,
        },
    )
