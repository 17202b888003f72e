import dagster as dg
import pytest

from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.zenodo.assets import zenodo_datasets
from dataset_catalog.defs.zenodo.resources import ZenodoResource
from dataset_catalog_tests.fakes.zenodo_oai import FakeZenodoOai


@pytest.fixture(autouse=True)
def _no_zenodo_env(monkeypatch):
    for name in ("ZENODO_TOKEN", "DATASET_CATALOG_ZENODO_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_zenodo():
    """Unlimited by default: only the rate-limit tests switch the fake's limit on."""
    with FakeZenodoOai() as fake:
        fake.rate_limit = None
        yield fake


def materialize_zenodo(
    database_url: str,
    fake: FakeZenodoOai,
    *,
    partition: str | None = None,
    partition_range: tuple[str, str] | None = None,
    config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
    **resource_options,
):
    """One materialization against the fake: unpaced, short timeouts and backoff unless overridden."""
    options = {
        "endpoint": f"{fake.url}/oai2d",
        "requests_per_minute": None,
        "request_timeout_seconds": 5.0,
        "retry_backoff_seconds": 0.01,
        **resource_options,
    }
    tags = {}
    if partition_range:
        tags = {
            "dagster/asset_partition_range_start": partition_range[0],
            "dagster/asset_partition_range_end": partition_range[1],
        }
    return dg.materialize(
        [zenodo_datasets],
        resources={"catalog": CatalogResource(database_url=database_url), "zenodo": ZenodoResource(**options)},
        partition_key=partition,
        tags=tags,
        run_config=dg.RunConfig(ops={"zenodo_datasets": {"config": config or {}}}),
        instance=instance,
        raise_on_error=False,
    )


def partition_metadata(result) -> dict[str, dict]:
    return {
        event.partition: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def run_metadata(result) -> dict:
    """The metadata of the run's newest partition (where the run's own figures are)."""
    by_partition = partition_metadata(result)
    return by_partition[max(by_partition)]


def failure_message(result) -> str:
    """The step's error and every error it was raised from, as the UI shows them (stack traces included)."""
    [event] = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.error.to_string()


def run_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(record.user_message for record in instance.all_logs(run_id))


@pytest.fixture
def dagster_instance():
    with dg.instance_for_test() as instance:
        yield instance
