"""Checks of `hf_datasets`: unique ids and complete rows (blocking), yesterday's partition present."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.checks import integrity_checks
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.partitions import hf_daily_partitions
from dataset_catalog.huggingface.mapping import SOURCE


class HfFreshnessConfig(dg.Config):
    grace_hours: float = Field(
        default=3.0, ge=0, description="After midnight UTC, how long yesterday's partition may still be missing."
    )


@dg.asset_check(
    asset=hf_datasets,
    name="latest_partition_fresh",
    description="The latest complete UTC day (yesterday, after the grace period) has been materialized.",
)
def hf_latest_partition_fresh(context: dg.AssetCheckExecutionContext, config: HfFreshnessConfig) -> dg.AssetCheckResult:
    now = datetime.now(UTC)
    # The last complete UTC day, as seen `grace_hours` ago (the daily sync runs after midnight).
    expected = hf_daily_partitions.get_partition_key_for_timestamp(
        (now - timedelta(hours=config.grace_hours, days=1)).timestamp()
    )
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=hf_datasets.key, asset_partitions=[expected]), limit=1
    ).records
    metadata: dict = {"expected_partition": expected}
    if records:
        materialized_at = datetime.fromtimestamp(records[0].timestamp, UTC)
        metadata["materialized_at"] = materialized_at.isoformat()
        metadata["age_hours"] = round((now - materialized_at).total_seconds() / 3600, 2)
    return dg.AssetCheckResult(passed=bool(records), severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


hf_checks = [*integrity_checks(hf_datasets, SOURCE), hf_latest_partition_fresh]
