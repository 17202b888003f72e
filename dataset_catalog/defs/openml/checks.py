"""Checks of `openml_datasets`: unique ids and complete active rows (blocking), and a freshness
warning when the weekly sync has not materialized for 8 days (a week and a day of grace)."""

from datetime import timedelta

import dagster as dg

from dataset_catalog.defs.common.checks import integrity_checks
from dataset_catalog.defs.openml.assets import openml_datasets
from dataset_catalog.openml.mapping import SOURCE

openml_checks = [
    *integrity_checks(openml_datasets, SOURCE),
    *dg.build_last_update_freshness_checks(
        assets=[openml_datasets], lower_bound_delta=timedelta(days=8), severity=dg.AssetCheckSeverity.WARN
    ),
]
