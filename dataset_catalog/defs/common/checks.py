"""Asset checks every source can use, built for its asset; thresholds are check config.

Blocking checks (a failure stops downstream assets in the same run): unique keys, active rows
with title and url. The others warn: backlog, failure rate, embedding coverage. Each area's
checks.py builds the ones it needs.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.enrichment_log import outcomes_since
from dataset_catalog.catalog.integrity import duplicate_keys, incomplete_active_rows
from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.catalog.summary import catalog_summary
from dataset_catalog.defs.common.metadata import records_table
from dataset_catalog.defs.common.resources import CatalogResource

# (embedded active rows, active rows); tests pass their own.
CoverageFn = Callable[[CatalogStore], tuple[int, int]]


def embedded_active_rows(store: CatalogStore) -> tuple[int, int]:
    """(active rows with an embedding, active rows)."""
    return catalog_summary(store).embedding_coverage()


def integrity_checks(asset: dg.AssetsDefinition | dg.AssetKey | str, source: str) -> list[dg.AssetChecksDefinition]:
    """The two blocking integrity checks for the asset that writes `source`'s rows."""

    @dg.asset_check(
        asset=asset,
        name="unique_external_ids",
        blocking=True,
        description=f"No two {source} rows share an external_id (ignoring case and surrounding spaces).",
    )
    def unique_external_ids(catalog: CatalogResource) -> dg.AssetCheckResult:
        total, sample = duplicate_keys(catalog.get_store(), source)
        return dg.AssetCheckResult(
            passed=total == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"duplicated_keys": total, "sample": records_table(sample)},
        )

    @dg.asset_check(
        asset=asset,
        name="active_rows_have_title_and_url",
        blocking=True,
        description=f"Every active {source} row has a non-blank title and url.",
    )
    def active_rows_have_title_and_url(catalog: CatalogResource) -> dg.AssetCheckResult:
        total, sample = incomplete_active_rows(catalog.get_store(), source)
        return dg.AssetCheckResult(
            passed=total == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"incomplete_active_rows": total, "sample": records_table(sample)},
        )

    return [unique_external_ids, active_rows_have_title_and_url]


class BacklogConfig(dg.Config):
    max_pending: int = Field(default=50_000, ge=0, description="Fail (warn) when more active rows are pending.")


class FailureRateConfig(dg.Config):
    max_failure_rate: float = Field(default=0.2, ge=0, le=1, description="failed / (success + failed), last window.")
    window_hours: float = Field(default=24.0, gt=0)
    min_attempts: int = Field(default=10, ge=0, description="Below this many attempts the rate is not judged.")


def backlog_check(asset: dg.AssetsDefinition | dg.AssetKey, source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=asset, name="pending_backlog", description=f"Size of {source}'s enrichment backlog.")
    def pending_backlog(config: BacklogConfig, catalog: CatalogResource) -> dg.AssetCheckResult:
        counts = catalog_summary(catalog.get_store()).enrichment_counts(source)
        pending = counts.get(EnrichmentStatus.PENDING, 0)
        return dg.AssetCheckResult(
            passed=pending <= config.max_pending,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                **{status: counts.get(status, 0) for status in EnrichmentStatus.ALL},
                "max_pending": config.max_pending,
            },
        )

    return pending_backlog


def failure_rate_check(asset: dg.AssetsDefinition | dg.AssetKey, source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="enrichment_failure_rate",
        description=f"Share of failed {source} enrichment attempts (enrichment_log) in the last window.",
    )
    def enrichment_failure_rate(config: FailureRateConfig, catalog: CatalogResource) -> dg.AssetCheckResult:
        since = datetime.now(UTC) - timedelta(hours=config.window_hours)
        outcomes = outcomes_since(catalog.get_store(), source, since)
        judged = outcomes.attempts >= config.min_attempts
        return dg.AssetCheckResult(
            passed=not judged or outcomes.failure_rate <= config.max_failure_rate,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failure_rate": round(outcomes.failure_rate, 4),
                "failed": outcomes.failed,
                "success": outcomes.success,
                "rate_limited": outcomes.rate_limited,
                "skipped": outcomes.skipped,
                "source_unavailable": outcomes.source_unavailable,
                "window_hours": config.window_hours,
                "judged": judged,
            },
        )

    return enrichment_failure_rate


class CoverageConfig(dg.Config):
    min_coverage: float = Field(default=0.95, ge=0, le=1, description="Embedded share of active rows required.")


def embedding_coverage_check(
    asset: dg.AssetsDefinition | dg.AssetKey | str, coverage: CoverageFn = embedded_active_rows
) -> dg.AssetChecksDefinition:
    """`coverage(store) -> (embedded active rows, active rows)`."""

    @dg.asset_check(asset=asset, name="embedding_coverage", description="Share of active rows that have an embedding.")
    def embedding_coverage(config: CoverageConfig, catalog: CatalogResource) -> dg.AssetCheckResult:
        embedded, active = coverage(catalog.get_store())
        share = embedded / active if active else 1.0
        return dg.AssetCheckResult(
            passed=share >= config.min_coverage,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"coverage": round(share, 4), "embedded": embedded, "active": active, "min": config.min_coverage},
        )

    return embedding_coverage
