"""A materialization killed with SIGKILL mid-harvest, then re-run, leaves exactly the right rows."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog_tests.fakes.zenodo_oai import day_records, make_zenodo_record

pytestmark = pytest.mark.slow  # SIGKILLed subprocesses

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2025, 3, 10, tzinfo=UTC)
RUN_CONFIG = {
    "ops": {"zenodo_datasets": {"config": {"batch_size": 10}}},
    # Paced far above the fake's answers: the test is about the kill, not the pace.
    "resources": {"zenodo": {"config": {"requests_per_minute": 60000, "retry_backoff_seconds": 0.01}}},
}


def _materialize_cli(database_url: str, endpoint: str, dagster_home: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATASET_CATALOG_DATABASE_URL": database_url,
        "DATASET_CATALOG_ZENODO_ENDPOINT": endpoint,
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONPATH": str(REPO_ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "dataset_catalog.definitions",
        "--select",
        "zenodo_datasets",
        "--partition",
        "2025-03-10",
        "--config-json",
        json.dumps(RUN_CONFIG),
    ]
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_sigkill_mid_harvest_then_rerun_leaves_exact_rows(database_url, store, fake_zenodo, tmp_path):
    # 300 single-version works, and 20 works of 3 versions each spread over the day: 320 rows.
    records = day_records(DAY, 300)
    for work in range(20):
        concept = 90_000 + work * 10
        records += [
            make_zenodo_record(
                concept + v,
                DAY + timedelta(hours=7 * v, minutes=work),
                concept_recid=concept,
                title=f"Work {work} v{v}",
            )
            for v in (1, 2, 3)
        ]
    fake_zenodo.set_records(records)
    fake_zenodo.page_size = 10
    fake_zenodo.delay_seconds = 0.15  # 36 pages: slow enough to kill half way
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()

    process = _materialize_cli(database_url, f"{fake_zenodo.url}/oai2d", dagster_home)
    deadline = time.monotonic() + 120
    while store.count_datasets() < 60:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the harvest never got going"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = store.count_datasets()
    assert 60 <= partial < 320  # killed half way
    time.sleep(1.0)
    assert store.count_datasets() == partial  # nothing of the run goes on writing
    with store.engine.connect() as conn:
        incomplete = conn.execute(
            sa.text("SELECT count(*) FROM datasets WHERE title IS NULL OR url IS NULL OR source_meta IS NULL")
        ).scalar_one()
    assert incomplete == 0

    fake_zenodo.delay_seconds = 0
    rerun = _materialize_cli(database_url, f"{fake_zenodo.url}/oai2d", dagster_home)
    output = rerun.communicate(timeout=180)[0].decode()
    assert rerun.returncode == 0, output[-3000:]
    rows = {r["external_id"]: r for r in store.fetch_datasets("zenodo")}
    expected = {str(r.recid) for r in records[:300]} | {str(90_000 + w * 10) for w in range(20)}
    assert set(rows) == expected
    for work in range(20):
        row = rows[str(90_000 + work * 10)]
        assert row["title"] == f"Work {work} v3"
        assert row["source_meta"]["version_count"] == 3
