"""A materialization killed with SIGKILL mid-sync, then re-run, leaves exactly the right rows and
fetches details only of what the killed run had not committed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog_tests.fakes.openml_api import make_datasets

pytestmark = pytest.mark.slow  # SIGKILLed subprocesses

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_CONFIG = {
    "ops": {"openml_datasets": {"config": {"batch_size": 10}}},
    "resources": {"openml": {"config": {"requests_per_second": 200.0, "retry_backoff_seconds": 0.01}}},
}


def _materialize_cli(database_url: str, endpoint: str, dagster_home: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATASET_CATALOG_DATABASE_URL": database_url,
        "DATASET_CATALOG_OPENML_ENDPOINT": endpoint,
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
        "openml_datasets",
        "--config-json",
        json.dumps(RUN_CONFIG),
    ]
    # Its own process group: the CLI runs the step in a child process; a crash takes all of them.
    return subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_sigkill_mid_sync_then_rerun_leaves_exact_rows(database_url, store, fake_openml, tmp_path):
    fake_openml.add(*make_datasets(150))
    fake_openml.delay_seconds = 0.04  # ~300 detail calls: slow enough to kill half way
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()

    process = _materialize_cli(database_url, fake_openml.url, dagster_home)
    deadline = time.monotonic() + 120
    while store.count_datasets() < 30:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the sync never got going"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = store.count_datasets()
    assert 30 <= partial < 150 and partial % 10 == 0  # whole batches only
    time.sleep(1.0)
    assert store.count_datasets() == partial  # nothing of the run survived to go on writing
    with store.engine.connect() as conn:
        incomplete = conn.execute(
            sa.text("SELECT count(*) FROM datasets WHERE title IS NULL OR description IS NULL OR source_meta IS NULL")
        ).scalar_one()
    assert incomplete == 0
    committed = {r["external_id"] for r in store.fetch_datasets("openml")}

    fake_openml.delay_seconds = 0
    fake_openml.requests.clear()
    rerun = _materialize_cli(database_url, fake_openml.url, dagster_home)
    output = rerun.communicate(timeout=180)[0].decode()
    assert rerun.returncode == 0, output[-3000:]
    rows = store.fetch_datasets("openml")
    assert len(rows) == 150 and {r["external_id"] for r in rows} == {str(i) for i in range(1, 151)}
    assert all(r["column_names"] == ["a", "b", "class"] and r["is_active"] for r in rows)
    refetched = {r.path.rsplit("/", 1)[-1] for r in fake_openml.detail_requests}
    assert refetched == {str(i) for i in range(1, 151)} - committed
