"""Every 30 minutes: bring embeddings up to date with whatever changed in the catalog.

A schedule rather than an automation condition: the catalog also changes outside asset
materializations (enrichment and link checks write rows directly), which a condition on
upstream materializations would never see, and a no-op run is cheap (hash comparison only).
A tick is skipped while a previous embedding run is still going (the first full embedding of
a large catalog takes hours on a CPU).
"""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.embeddings.assets import dataset_embeddings

dataset_embeddings_job = dg.define_asset_job("dataset_embeddings_job", selection=[dataset_embeddings])
_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.schedule(
    cron_schedule="*/30 * * * *",
    job=dataset_embeddings_job,
    execution_timezone="UTC",
    name="dataset_embeddings_every_30_minutes",
    default_status=dg.DefaultScheduleStatus.STOPPED,  # like the syncs: an operator switches it on
)
def dataset_embeddings_schedule(context: dg.ScheduleEvaluationContext):
    running = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=dataset_embeddings_job.name, statuses=_IN_FLIGHT), limit=1
    )
    if running:
        return dg.SkipReason(f"Run {running[0].run_id} of {dataset_embeddings_job.name} is still in progress.")
    return dg.RunRequest()
