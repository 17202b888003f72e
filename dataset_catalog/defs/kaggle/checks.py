"""Checks of the Kaggle rows, on the enrichment asset: unique ids and complete rows (blocking),
the pending backlog and the enrichment failure rate."""

import dagster as dg

from dataset_catalog.defs.common.checks import backlog_check, failure_rate_check, integrity_checks
from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets
from dataset_catalog.kaggle.mapping import SOURCE


def kaggle_checks(asset: dg.AssetsDefinition | dg.AssetKey) -> list[dg.AssetChecksDefinition]:
    return [*integrity_checks(asset, SOURCE), backlog_check(asset, SOURCE), failure_rate_check(asset, SOURCE)]


enrichment_checks = kaggle_checks(kaggle_enriched_datasets)
