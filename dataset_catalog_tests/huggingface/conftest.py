import dagster as dg
import pytest

from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource


def materialize_hf(
    database_url: str,
    hub_url: str,
    *,
    partition: str | None = None,
    partition_range: tuple[str, str] | None = None,
    config: dict | None = None,
    token: str | None = None,
    request_timeout_seconds: float = 10.0,
    instance: dg.DagsterInstance | None = None,
    **hub_options,
):
    tags = {}
    if partition_range:
        tags = {
            "dagster/asset_partition_range_start": partition_range[0],
            "dagster/asset_partition_range_end": partition_range[1],
        }
    return dg.materialize(
        [hf_datasets],
        resources={
            "catalog": CatalogResource(database_url=database_url),
            "huggingface": HuggingFaceResource(
                endpoint=hub_url, token=token, request_timeout_seconds=request_timeout_seconds, **hub_options
            ),
        },
        partition_key=partition,
        tags=tags,
        run_config=dg.RunConfig(ops={"hf_datasets": {"config": config or {}}}),
        instance=instance,
        raise_on_error=False,
    )


def partition_metadata(result) -> dict[str, dict]:
    """Each materialized partition's metadata values, by partition key."""
    return {
        event.partition: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def materialization_metadata(result) -> dict:
    """The metadata of a one-partition run."""
    (metadata,) = partition_metadata(result).values()
    return metadata


def run_log_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every message the run logged (user logs and Dagster events), as the UI shows them."""
    return "\n".join(record.user_message for record in instance.all_logs(run_id))


@pytest.fixture
def dagster_instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def run_hf():
    return materialize_hf
