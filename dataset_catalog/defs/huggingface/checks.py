"""Checks of `hf_datasets`: unique ids and complete rows (blocking), and Dagster's own freshness
check for time partitions: by 03:00 UTC yesterday's partition must be materialized (the daily
sync runs at 00:30; three hours is its grace)."""

import dagster as dg

from dataset_catalog.defs.common.checks import integrity_checks
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.huggingface.mapping import SOURCE

FRESHNESS_DEADLINE_CRON = "0 3 * * *"

hf_checks = [
    *integrity_checks(hf_datasets, SOURCE),
    *dg.build_time_partition_freshness_checks(
        assets=[hf_datasets], deadline_cron=FRESHNESS_DEADLINE_CRON, timezone="UTC", severity=dg.AssetCheckSeverity.WARN
    ),
]
