"""Daily: compare the rows that changed since the last run (after the day's syncs and embeddings)."""

import dagster as dg

from dataset_catalog.defs.clusters.assets import dataset_clusters

dataset_clusters_job = dg.define_asset_job("dataset_clusters_job", selection=[dataset_clusters])

dataset_clusters_schedule = dg.ScheduleDefinition(
    name="dataset_clusters_daily",
    job=dataset_clusters_job,
    cron_schedule="30 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,  # like the syncs: an operator switches it on
)
