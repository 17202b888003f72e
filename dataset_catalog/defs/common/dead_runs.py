"""Runs whose process was killed (SIGKILL, OOM, a lost host) are marked failed and give back their slots.

A run killed that way never writes its failure: it stays STARTED, keeps its pool slot (`zenodo_api`,
`kaggle_api`, ... limit 1) and counts against its source's run-tag limit, so every later run of that
source waits for ever. Dagster's run monitoring cannot see it: the default run launcher has no
worker health check, and CLI runs (`dagster job execute`) are launched by no launcher at all.

So every run records its process (host, pid, start time) in a run tag when it starts executing, and
- the executor of every job (`dead_runs_first_executor`) marks failed, before the run waits on a
  pool, the runs of this host whose process is gone and frees their slots: a rerun from the CLI with
  no daemon recovers by itself;
- the `dead_run_monitor` sensor does the same every minute under the daemon, which also frees the
  run queue's tag-limit slots (a failed run no longer counts) before any rerun starts.
Runs of other hosts and runs without the tag are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster._core.definitions.executor_definition import multi_or_in_process_executor
from dagster._core.events import DagsterEventType, JobFailureData, RunFailureReason
from dagster._core.executor.base import Executor
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

from dataset_catalog.common.processes import ProcessIdentity, current_process, is_gone

RUN_PROCESS_TAG = "dataset_catalog/run_process"
SENSOR_INTERVAL_SECONDS = 60
_BLOCKED_MESSAGE_PREFIXES = ("Step blocked by limit for pool", "Step still blocked by limit for pool")


def record_run_process(instance: dg.DagsterInstance, run_id: str) -> None:
    instance.add_run_tags(run_id, {RUN_PROCESS_TAG: current_process().to_tag()})


def fail_dead_runs(instance: dg.DagsterInstance, log: Any) -> list[str]:
    """Marks failed each unfinished run of this host whose recorded process is gone, frees its pool
    slots (and so its pending steps); returns their run ids."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)):
        run = record.dagster_run
        identity = ProcessIdentity.from_tag(run.tags.get(RUN_PROCESS_TAG, ""))
        if identity is None or not is_gone(identity):
            continue
        message = (
            f"Run {run.run_id} ({run.job_name}) marked failed: its process (pid {identity.pid} on {identity.host}) "
            "is gone, killed without reporting an end. Its pool slots are freed; rerun its partitions."
        )
        instance.report_run_failed(
            run, message, JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION)
        )
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning(message)
        failed.append(run.run_id)
    return failed


class DeadRunsFirstExecutor(Executor):
    """Dagster's default executor, which records the run's process first and fails dead runs of this
    host before its steps claim pool slots, and again whenever a step is blocked on a pool."""

    def __init__(self, inner: Executor):
        self._inner = inner

    def __getattr__(self, name: str):
        # The rest is the inner executor's: dagster-celery's loop asks the executor it runs for its broker settings.
        return getattr(self._inner, name)

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        instance = plan_context.instance
        record_run_process(instance, plan_context.run_id)
        fail_dead_runs(instance, plan_context.log)
        for event in self._inner.execute(plan_context, execution_plan):
            yield event
            if event.event_type == DagsterEventType.ENGINE_EVENT and (event.message or "").startswith(
                _BLOCKED_MESSAGE_PREFIXES
            ):
                fail_dead_runs(instance, plan_context.log)


@dg.executor(
    name="dead_runs_first",
    config_schema=multi_or_in_process_executor.config_schema,
    requirements=multi_or_in_process_executor.get_requirements,
)
def dead_runs_first_executor(init_context: dg.InitExecutorContext) -> Executor:
    return DeadRunsFirstExecutor(multi_or_in_process_executor.executor_creation_fn(init_context))


@dg.sensor(
    name="dead_run_monitor",
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks failed the runs of this host whose process was killed (they stay STARTED and hold their pool "
        "and run-queue slots otherwise) and frees their pool slots."
    ),
)
def dead_run_monitor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_runs(context.instance, context.log)
    return dg.SkipReason(f"Marked {len(failed)} dead run(s) failed: {', '.join(failed)}" if failed else "No dead runs")


# The executor is chosen by defs/common/executor.py (this one, or Celery wrapped the same way).
defs = dg.Definitions(sensors=[dead_run_monitor])
