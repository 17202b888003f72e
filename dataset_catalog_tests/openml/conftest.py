"""OpenML test helpers: the fake API, and `openml_datasets` materialized against it."""

from __future__ import annotations

import dagster as dg
import pytest

from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.openml.assets import openml_datasets
from dataset_catalog.defs.openml.resources import OpenMLResource
from dataset_catalog_tests.fakes.openml_api import FakeOpenML

# Fast enough for tests; only the pacing tests run at a realistic pace.
FAST = {"requests_per_second": 500.0, "retry_backoff_seconds": 0.01, "request_timeout_seconds": 5.0}


@pytest.fixture(autouse=True)
def _no_openml_environment(monkeypatch):
    for name in ("OPENML_API_KEY", "DATASET_CATALOG_OPENML_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_openml():
    with FakeOpenML() as fake:
        yield fake


@pytest.fixture
def dagster_instance():
    with dg.instance_for_test() as instance:
        yield instance


def materialize_openml(database_url, endpoint, *, config=None, instance=None, **resource_options):
    options = {**FAST, **resource_options}
    return dg.materialize(
        [openml_datasets],
        resources={
            "catalog": CatalogResource(database_url=database_url),
            "openml": OpenMLResource(endpoint=endpoint, **options),
        },
        run_config=dg.RunConfig(ops={"openml_datasets": {"config": config or {}}}),
        instance=instance,
        raise_on_error=False,
    )


def metadata_of(result) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def failure_text(result) -> str:
    return result.get_step_failure_events()[0].event_specific_data.error.to_string()


def run_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(record.user_message for record in instance.all_logs(run_id))


def max_requests_in_any_second(requests, jitter: float = 0.03) -> int:
    """The most requests the fake received within any 1-second window (less loopback `jitter`:
    delivery varies by a few ms, the pacer's slots never do)."""
    times = sorted(r.at for r in requests)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0 - jitter:
            start += 1
        most = max(most, end - start + 1)
    return most
