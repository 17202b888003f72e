"""Thin maintenance assets: `dataset_link_status` (broken-link janitor) and `remove_old_cache`."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from dataset_catalog import settings
from dataset_catalog.catalog.link_state import LinkThresholds
from dataset_catalog.catalog.schema import EnrichmentStatus, LinkStatus
from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.common.sources import catalog_sources
from dataset_catalog.defs.common.catalog_asset import catalog_asset
from dataset_catalog.defs.common.catalog_sources import catalog_source_asset_keys
from dataset_catalog.defs.common.metadata import catalog_state_table, records_table
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.encoder import configured_model_name
from dataset_catalog.errors import CatalogConfigError
from dataset_catalog.maintenance.address_guard import AddressPolicy, parse_allow_list
from dataset_catalog.maintenance.cache_cleanup import remove_old_cache_files
from dataset_catalog.maintenance.http_probe import ProbeSettings
from dataset_catalog.maintenance.janitor import JanitorSettings, run_link_janitor


class LinkCheckConfig(dg.Config):
    batch_size: int = Field(
        default=500, ge=1, le=100_000, description="URLs checked per run, least recently checked first."
    )
    concurrency: int = Field(default=16, ge=1, le=256, description="Requests in flight overall.")
    per_host_limit: int = Field(default=2, ge=1, le=64, description="Requests in flight per host name.")
    per_host_interval_seconds: float = Field(
        default=0.2, ge=0, description="Minimum gap between request starts per host."
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="The longest one request may take, all of it."
    )
    max_redirects: int = Field(default=5, ge=0, le=5)
    failure_threshold: int = Field(
        default=3, ge=1, description="Consecutive failures, the last a 404/410, that deactivate a row."
    )
    transient_threshold: int = Field(
        default=10, ge=1, description="Consecutive failures of any kind that deactivate a row."
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description="Non-public networks the checker may connect to (e.g. ['127.0.0.0/8'] for tests). Empty = public only.",
    )


@catalog_asset(
    deps=catalog_source_asset_keys(),  # after the source syncs, so new rows are checked
    group_name="maintenance",
    description=(
        "Broken-link janitor: checks the URLs of the least recently checked datasets and records "
        "link_status / link_http_status / last_checked_at; deactivates rows after repeated failures "
        "and reactivates them on success."
    ),
)
def dataset_link_status(
    context: dg.AssetExecutionContext, config: LinkCheckConfig, catalog: CatalogResource
) -> dg.MaterializeResult:
    try:
        thresholds = LinkThresholds(config.failure_threshold, max(config.transient_threshold, config.failure_threshold))
        policy = AddressPolicy(parse_allow_list(config.allowed_networks))
    except ValueError as exc:
        raise CatalogConfigError(
            f"Invalid link check config: {exc}. allowed_networks takes entries like '10.0.0.0/8'."
        ) from None
    store = catalog.get_store()
    report = run_link_janitor(
        store,
        JanitorSettings(
            probe=ProbeSettings(policy, config.timeout_seconds, config.max_redirects),
            thresholds=thresholds,
            batch_size=config.batch_size,
            concurrency=config.concurrency,
            per_host_limit=config.per_host_limit,
            per_host_interval_seconds=config.per_host_interval_seconds,
        ),
        log=context.log,
    )
    failure_columns = ("dataset_id", "url", "status", "http_status", "error")
    return dg.MaterializeResult(
        metadata={
            "checked": report.checked,
            "ok": report.ok,
            "broken": report.broken,
            "transient": report.transient,
            "blocked": report.blocked,
            "deactivated": report.deactivated,
            "reactivated": report.reactivated,
            "urls_per_second": round(report.urls_per_second, 2),
            "seconds": round(report.seconds, 2),
            "max_in_flight_per_host": report.max_in_flight_per_host,
            "by_status": dg.MetadataValue.json(dict(report.by_status)),
            "link_status_totals": dg.MetadataValue.json(catalog_summary(store).link_status_counts()),
            "failures_sample": records_table(report.failures, failure_columns),
        }
    )


class CacheCleanupConfig(dg.Config):
    max_age_hours: float = Field(default=24.0, gt=0, description="Delete cached files last modified before this.")
    cache_dir: str | None = Field(
        default=None, description="Unset = DATASET_CATALOG_CACHE_DIR / the default cache dir."
    )


@catalog_asset(
    in_catalog=False,  # it deletes cached files; the catalog is not touched
    group_name="maintenance",
    description=(
        "Deletes cached downloads older than max_age_hours, skipping directories a running process "
        "marks with .in-use.<pid> (dataset_catalog/common/cache_lock.py)."
    ),
)
def remove_old_cache(context: dg.AssetExecutionContext, config: CacheCleanupConfig) -> dg.MaterializeResult:
    cache_dir = settings.cache_dir() if config.cache_dir is None else Path(config.cache_dir).expanduser()
    report = remove_old_cache_files(cache_dir, config.max_age_hours, log=context.log)
    for error in report.errors[:20]:
        context.log.warning(f"Could not remove {error}")
    return dg.MaterializeResult(
        metadata={
            "cache_dir": str(cache_dir),
            "files_removed": report.files_removed,
            "bytes_freed": report.bytes_freed,
            "dirs_removed": report.dirs_removed,
            "skipped_in_use_dirs": report.skipped_in_use,
            "kept_recent_files": report.skipped_recent,
            "stale_markers_removed": report.stale_markers_removed,
            "errors": len(report.errors),
            "max_age_hours": config.max_age_hours,
        }
    )


@catalog_asset(
    group_name="maintenance",
    description=(
        "How complete the catalog is, per source: rows, active, enriched, pending, failed, embedded (with the "
        "configured model) and broken links, as numbers that the UI plots day by day. Materialized by "
        "catalog_checks_daily with every asset check."
    ),
)
def catalog_health(catalog: CatalogResource, embedding_model: EmbeddingModelResource) -> dg.MaterializeResult:
    store = catalog.get_store()
    summary = catalog_summary(store, configured_model_name(embedding_model.model))
    per_source = summary.per_source(catalog_sources())
    metadata: dict = {}
    for source, numbers in per_source.items():
        metadata.update(
            {
                f"{source}/rows": numbers["rows"],
                f"{source}/active": numbers["active"],
                f"{source}/enriched": numbers["enrichment"].get(EnrichmentStatus.ENRICHED, 0),
                f"{source}/pending": numbers["enrichment"].get(EnrichmentStatus.PENDING, 0),
                f"{source}/failed": numbers["enrichment"].get(EnrichmentStatus.FAILED, 0),
                f"{source}/embedded": numbers["embedded_current_model"],
                f"{source}/link_broken": numbers["link_status"].get(LinkStatus.BROKEN, 0),
            }
        )
        # Rows clustered with a copy on another source (dataset_clusters), per source pair.
        metadata.update({f"{source}/also_on_{other}": rows for other, rows in numbers["duplicates_on"].items()})
    metadata["dagster/row_count"] = sum(s["rows"] for s in per_source.values())
    metadata["catalog_state"] = catalog_state_table(summary)
    return dg.MaterializeResult(metadata=metadata)
