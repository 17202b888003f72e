"""Where a run's steps execute: in the run's own process tree (Dagster's default multiprocess
executor), or, with DATASET_CATALOG_EXECUTOR=celery, on dagster-celery workers fed through a
broker (DATASET_CATALOG_CELERY_BROKER, e.g. redis://redis:6379/0), so runs launched on one
machine do their work on others. The choice is the deployment's, read when the code loads."""

from __future__ import annotations

import os

import dagster as dg
from dagster._core.executor.base import Executor

from dataset_catalog.defs.common.dead_runs import DeadRunsFirstExecutor, dead_runs_first_executor
from dataset_catalog.errors import DatasetCatalogError

EXECUTOR_ENV = "DATASET_CATALOG_EXECUTOR"
BROKER_ENV = "DATASET_CATALOG_CELERY_BROKER"
BACKEND_ENV = "DATASET_CATALOG_CELERY_BACKEND"
# Seconds a step may run before the broker hands its task to another worker as lost: longer than
# the longest step (a large embedding unit), shorter than anyone would wait after a worker dies.
VISIBILITY_TIMEOUT_ENV = "DATASET_CATALOG_CELERY_VISIBILITY_TIMEOUT"
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 7200


def celery_settings() -> dict:
    """Celery settings the run and its workers share (the workers' -y file carries the same): a
    task is acknowledged when its step ends, not when a worker takes it, so a step whose worker
    is killed goes back to the queue and another worker runs it (every step is idempotent)."""
    timeout = int(os.environ.get(VISIBILITY_TIMEOUT_ENV) or DEFAULT_VISIBILITY_TIMEOUT_SECONDS)
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "broker_transport_options": {"visibility_timeout": timeout},
    }


EXECUTORS = ("multiprocess", "celery")


class ExecutorConfigError(DatasetCatalogError):
    """DATASET_CATALOG_EXECUTOR names no executor, or Celery is asked for without its broker or package."""


def configured_executor() -> dg.ExecutorDefinition:
    """Either executor, wrapped so that it first fails this host's dead runs (defs/common/dead_runs.py)."""
    choice = (os.environ.get(EXECUTOR_ENV) or "multiprocess").strip().lower()
    if choice == "multiprocess":
        return dead_runs_first_executor
    if choice != "celery":
        raise ExecutorConfigError(f"{EXECUTOR_ENV}={choice!r}: choose one of {', '.join(EXECUTORS)}.")
    broker = os.environ.get(BROKER_ENV)
    if not broker:
        raise ExecutorConfigError(
            f"{EXECUTOR_ENV}=celery needs {BROKER_ENV}, the broker's URL (e.g. redis://redis:6379/0)."
        )
    try:
        from dagster_celery import celery_executor
    except ImportError as exc:
        raise ExecutorConfigError(
            f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install 'dataset_catalog[celery]'."
        ) from exc

    @dg.executor(
        name="dead_runs_first_celery",
        config_schema=celery_executor.config_schema,
        requirements=celery_executor.get_requirements,
    )
    def dead_runs_first_celery(init_context: dg.InitExecutorContext) -> Executor:
        return DeadRunsFirstExecutor(celery_executor.executor_creation_fn(init_context))

    backend = BACKEND_ENV if os.environ.get(BACKEND_ENV) else BROKER_ENV
    return dead_runs_first_celery.configured(
        {"broker": {"env": BROKER_ENV}, "backend": {"env": backend}, "config_source": celery_settings()}
    )


defs = dg.Definitions(executor=configured_executor())
