"""Assets materialized on a PostgreSQL-backed Dagster instance (dagster-postgres), events read back."""

import glob
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.partitions import hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.defs.maintenance.assets import dataset_link_status, remove_old_cache
from dataset_catalog_tests.conftest import create_pg_database
from dataset_catalog_tests.fakes.hf_hub import day_items
from dataset_catalog_tests.fakes.link_server import LinkHosts
from dataset_catalog_tests.fakes.tcp_proxy import UnixSocketProxy

pytestmark = pytest.mark.slow  # PostgreSQL-backed Dagster instances

REPO_ROOT = Path(__file__).resolve().parents[2]


def psycopg2_url(sqlalchemy_url: str) -> str:
    """dagster-postgres needs psycopg2: SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3."""
    url = sa.make_url(sqlalchemy_url).set(drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def materialize_maintenance(instance, database_url, fake_hub, tmp_path):
    partition = hf_daily_partitions.get_last_partition_key()
    fake_hub.set_items(day_items(datetime.fromisoformat(partition).replace(tzinfo=UTC), 4))
    catalog = CatalogResource(database_url=database_url)
    hf = dg.materialize(
        [hf_datasets],
        partition_key=partition,
        resources={"catalog": catalog, "huggingface": HuggingFaceResource(endpoint=fake_hub.url)},
        instance=instance,
    )
    assert hf.success
    with LinkHosts(("127.0.0.1",)) as hosts:
        # The mapped rows point at huggingface.co; point them at the local fake instead.
        with CatalogStore(database_url) as store, store.engine.begin() as conn:
            for n, row in enumerate(store.fetch_datasets()):
                path = "ok" if n % 2 else "gone"
                conn.execute(
                    sa.update(datasets).where(datasets.c.id == row["id"]).values(url=hosts.url(0, f"{path}/{n}"))
                )
        links = dg.materialize(
            [dataset_link_status],
            resources={"catalog": catalog},
            run_config=dg.RunConfig(ops={"dataset_link_status": {"config": {"allowed_networks": ["127.0.0.1"]}}}),
            instance=instance,
        )
    assert links.success
    cache = dg.materialize(
        [remove_old_cache],
        run_config=dg.RunConfig(ops={"remove_old_cache": {"config": {"cache_dir": str(tmp_path / "cache")}}}),
        instance=instance,
    )
    assert cache.success
    return partition


def assert_events_read_back(instance, partition):
    hf_event = instance.get_latest_materialization_event(dg.AssetKey("hf_datasets"))
    assert hf_event is not None and hf_event.asset_materialization.partition == partition
    assert hf_event.asset_materialization.metadata["total_inserted"].value == 4
    link_event = instance.get_latest_materialization_event(dg.AssetKey("dataset_link_status"))
    link_meta = link_event.asset_materialization.metadata
    assert (link_meta["checked"].value, link_meta["ok"].value, link_meta["broken"].value) == (4, 2, 2)
    cache_event = instance.get_latest_materialization_event(dg.AssetKey("remove_old_cache"))
    assert cache_event.asset_materialization.metadata["files_removed"].value == 0
    assert len(instance.get_runs()) == 3


def test_materializations_on_a_postgresql_instance(pg_admin_url, database_url, fake_hub, tmp_path):
    instance_url = psycopg2_url(create_pg_database(pg_admin_url))
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": instance_url}}}) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        partition = materialize_maintenance(instance, database_url, fake_hub, tmp_path)
        assert_events_read_back(instance, partition)
    # The events live in PostgreSQL: a second instance on the same database sees them.
    with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": instance_url}}}) as again:
        assert_events_read_back(again, partition)


@pytest.fixture
def pg_tcp(pg_admin_url):
    """The socket-only test server reachable on 127.0.0.1:<port>, as deploy/dagster.yaml expects."""
    socket_dir = sa.make_url(pg_admin_url).query["host"]
    sockets = [p for p in glob.glob(f"{socket_dir}/.s.PGSQL.*") if not p.endswith(".lock")]
    assert sockets, f"no PostgreSQL socket in {socket_dir}"
    with UnixSocketProxy(sockets[0]) as proxy:
        yield proxy.port


def test_repo_dagster_yaml_is_a_working_instance_config(pg_admin_url, pg_tcp, fake_hub, tmp_path, monkeypatch):
    db_name = sa.make_url(create_pg_database(pg_admin_url)).database
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(pg_tcp),
        "DAGSTER_PG_DB": db_name,
    }.items():
        monkeypatch.setenv(name, value)
    database_url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with dg.DagsterInstance.get() as instance:
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 10
        partition = materialize_maintenance(instance, database_url, fake_hub, tmp_path)
        assert_events_read_back(instance, partition)
