"""Every 30 minutes: bring embeddings up to date with whatever changed in the catalog, one run
per embedding unit that has changes (a quiet catalog costs one grouped query and no run).

A schedule rather than an automation condition on the sources: the catalog also changes outside
asset materializations (enrichment and link checks write rows directly), which a condition on
upstream materializations would never see. A tick is skipped while units of an earlier tick are
still running. `dataset_embeddings` (vector index, reference counts) follows once the last unit
lands, through the `embeddings_after_units` automation sensor.
"""

from __future__ import annotations

import dagster as dg

from dataset_catalog.catalog.vector_store import units_with_changes
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.assets import dataset_embedding_units, dataset_embeddings
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.embeddings.encoder import configured_model_name
from dataset_catalog.embeddings.units import UNIT_BUCKETS, EmbeddingUnit

dataset_embeddings_job = dg.define_asset_job("dataset_embeddings_job", selection=[dataset_embeddings])
dataset_embedding_units_job = dg.define_asset_job(
    "dataset_embedding_units_job",
    selection=[dataset_embedding_units],
    partitions_def=dataset_embedding_units.partitions_def,
)
_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.schedule(
    cron_schedule="*/30 * * * *",
    job=dataset_embedding_units_job,
    execution_timezone="UTC",
    name="dataset_embeddings_every_30_minutes",
    default_status=dg.DefaultScheduleStatus.STOPPED,  # like the syncs: an operator switches it on
)
def dataset_embeddings_schedule(
    context: dg.ScheduleEvaluationContext, catalog: CatalogResource, embedding_model: EmbeddingModelResource
):
    running = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=dataset_embedding_units_job.name, statuses=_IN_FLIGHT), limit=1
    )
    if running:
        return dg.SkipReason(f"Run {running[0].run_id} of {dataset_embedding_units_job.name} is still in progress.")
    model = configured_model_name(embedding_model.model)
    changed = units_with_changes(catalog.get_store(), model, UNIT_BUCKETS)
    if not changed:
        return dg.SkipReason("No embedding unit has changed rows.")
    # One request per unit, keyed by tick so a retried tick does not launch the same units twice.
    return [
        dg.RunRequest(run_key=f"{context.scheduled_execution_time}:{key}", partition_key=key)
        for key in (EmbeddingUnit(source, bucket).key for source, bucket in changed)
    ]


embeddings_after_units = dg.AutomationConditionSensorDefinition(
    "embeddings_after_units",
    target=dg.AssetSelection.assets(dataset_embeddings),
    # On by default: it does nothing until a unit lands, then runs dataset_embeddings once.
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
)
