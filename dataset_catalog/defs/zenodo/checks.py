"""Checks of `zenodo_datasets`: unique ids and complete rows (blocking), and Dagster's freshness check
for time partitions: by 04:00 UTC yesterday's partition must be materialized (the daily sync runs at
01:30; a day's list is usually a few pages at 30 requests a minute)."""

import dagster as dg

from dataset_catalog.defs.common.checks import integrity_checks
from dataset_catalog.defs.zenodo.assets import zenodo_datasets
from dataset_catalog.zenodo.mapping import SOURCE

FRESHNESS_DEADLINE_CRON = "0 4 * * *"

zenodo_checks = [
    *integrity_checks(zenodo_datasets, SOURCE),
    *dg.build_time_partition_freshness_checks(
        assets=[zenodo_datasets],
        deadline_cron=FRESHNESS_DEADLINE_CRON,
        timezone="UTC",
        severity=dg.AssetCheckSeverity.WARN,
    ),
]
