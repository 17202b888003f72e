"""A materialization killed with SIGKILL mid-sync, then re-run, leaves exactly the right rows."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog_tests.fakes.hf_hub import day_items

pytestmark = pytest.mark.slow  # SIGKILLed subprocesses

REPO_ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2025, 3, 10, tzinfo=UTC)


def _materialize_cli(database_url: str, hub_url: str, dagster_home: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATASET_CATALOG_DATABASE_URL": database_url,
        "HF_ENDPOINT": hub_url,
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
        "hf_datasets",
        "--partition",
        "2025-03-10",
        "--config-json",
        '{"ops": {"hf_datasets": {"config": {"batch_size": 10}}}}',
    ]
    # Its own process group: the CLI runs the step in a child process, and that process starts
    # the catalog writer; a crash of the machine's run takes all of them.
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_sigkill_mid_sync_then_rerun_leaves_exact_rows(database_url, store, fake_hub, tmp_path):
    items = day_items(DAY, 400)
    fake_hub.set_items(items)
    fake_hub.default_page_size = 20
    fake_hub.delay_seconds = 0.15  # ~20 pages: slow enough to kill half way
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()

    process = _materialize_cli(database_url, fake_hub.url, dagster_home)
    deadline = time.monotonic() + 120
    while store.count_datasets() < 60:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the sync never got going"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = store.count_datasets()
    assert 60 <= partial < 400  # killed half way
    time.sleep(1.0)
    assert store.count_datasets() == partial  # nothing of the run survived to go on writing
    # Every committed row is whole: no row without its mapped fields.
    with store.engine.connect() as conn:
        incomplete = conn.execute(
            sa.text("SELECT count(*) FROM datasets WHERE title IS NULL OR url IS NULL OR source_meta IS NULL")
        ).scalar_one()
    assert incomplete == 0

    fake_hub.delay_seconds = 0
    rerun = _materialize_cli(database_url, fake_hub.url, dagster_home)
    output = rerun.communicate(timeout=180)[0].decode()
    assert rerun.returncode == 0, output[-3000:]
    rows = store.fetch_datasets("huggingface")
    assert len(rows) == 400
    assert {r["external_id"] for r in rows} == {i["id"] for i in items}
