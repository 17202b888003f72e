"""A `zenodo_datasets` run SIGKILLed mid-way does not hold its pool and run-queue slots for ever: the
rerun on the same instance completes, from the CLI without a daemon and queued under the daemon."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from dataset_catalog.defs.common.dead_runs import RUN_PROCESS_TAG
from dataset_catalog_tests.defs.dagster_processes import stop_process_group
from dataset_catalog_tests.fakes.zenodo_oai import FakeZenodoOai, day_records

pytestmark = pytest.mark.slow  # dagster processes, a killed run, a rerun

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the environment running the tests, wherever it is
DAGSTER = str(BIN / "dagster")
POOL = "zenodo_api"
RANGE_TAGS = {"dagster/asset_partition_range_start": "2023-06-01", "dagster/asset_partition_range_end": "2023-06-02"}
RECORDS_PER_DAY = 150  # 3 pages a day, 6 for the run
RUN_CONFIG = {"resources": {"zenodo": {"config": {"requests_per_minute": 6000.0, "request_timeout_seconds": 30.0}}}}
RERUN_TIMEOUT_SECONDS = 240  # without the fix the rerun waits on the pool (or in the queue) for ever


@pytest.fixture
def fake_zenodo():
    records = day_records(datetime(2023, 6, 1, tzinfo=UTC), RECORDS_PER_DAY)
    records += day_records(datetime(2023, 6, 2, tzinfo=UTC), RECORDS_PER_DAY, first_recid=5000)
    with FakeZenodoOai(records) as fake:
        fake.rate_limit = None
        yield fake


@pytest.fixture
def dagster_env(tmp_path, fake_zenodo):
    """DAGSTER_HOME with the repo's dagster.yaml (run monitoring polled every 2 s), a SQLite catalog."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 2
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    # Create the instance's SQLite storages once, here: a daemon and a CLI run opening a fresh
    # DAGSTER_HOME at the same moment both stamp its schema, and one dies on the UNIQUE constraint.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
    (tmp_path / "run_config.yaml").write_text(yaml.safe_dump(RUN_CONFIG))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DATASET_CATALOG_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.sqlite3'}",
        "DATASET_CATALOG_ZENODO_ENDPOINT": fake_zenodo.url + "/oai2d",
    }
    return env


def job_command(verb: str, tmp_path: Path) -> list[str]:
    """`execute` runs in the CLI's process (-m only); `launch` queues for the daemon's code location."""
    target = ["-m", "dataset_catalog.definitions"] if verb == "execute" else ["-w", "workspace.yaml"]
    return [
        DAGSTER, "job", verb, *target, "-j", "zenodo_datasets_job",
        "--tags", json.dumps(RANGE_TAGS), "-c", str(tmp_path / "run_config.yaml"),
    ]  # fmt: skip


def kill_a_run_midway(env, fake_zenodo, tmp_path, monkeypatch) -> str:
    """Start a CLI run against a slow fake, SIGKILL its process group after its second page; the
    killed run's id. It is left STARTED, holding the pool's one slot: the issue's state."""
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    fake_zenodo.delay_seconds = 3.0
    killed = subprocess.Popen(
        job_command("execute", tmp_path), cwd=REPO_ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(fake_zenodo.oai_requests) < 2:
        assert killed.poll() is None and time.monotonic() < deadline, "the first run never got to its second page"
        time.sleep(0.2)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    fake_zenodo.delay_seconds = 0.0
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED
        assert RUN_PROCESS_TAG in run.tags
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        assert [slot.run_id for slot in claimed] == [run.run_id]
    return run.run_id


def assert_recovered(killed_run_id: str, rerun_id: str, env) -> None:
    with dg.DagsterInstance.get() as instance:
        killed = instance.get_run_by_id(killed_run_id)
        assert killed.status == dg.DagsterRunStatus.FAILURE
        failure = instance.all_logs(killed_run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "its process (pid" in failure[-1].message and "is gone" in failure[-1].message
        assert instance.get_run_by_id(rerun_id).status == dg.DagsterRunStatus.SUCCESS
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
    engine = sa.create_engine(env["DATASET_CATALOG_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM datasets WHERE source = 'zenodo'")).scalar_one()
    engine.dispose()
    assert rows == 2 * RECORDS_PER_DAY


def test_a_cli_rerun_after_a_killed_run_fails_it_and_completes(dagster_env, fake_zenodo, tmp_path, monkeypatch):
    killed_run_id = kill_a_run_midway(dagster_env, fake_zenodo, tmp_path, monkeypatch)
    started = time.monotonic()
    rerun = subprocess.Popen(
        job_command("execute", tmp_path), cwd=REPO_ROOT, env=dagster_env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output, _ = rerun.communicate(timeout=RERUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(rerun.pid, signal.SIGKILL)
        output, _ = rerun.communicate()
        pytest.fail(f"the rerun still waits on pool {POOL} after {RERUN_TIMEOUT_SECONDS} s:\n{output[-1500:]}")
    assert rerun.returncode == 0, output
    print(f"CLI rerun completed in {time.monotonic() - started:.1f} s")
    assert f"Run {killed_run_id} (zenodo_datasets_job) marked failed" in output
    with dg.DagsterInstance.get() as instance:
        rerun_id = next(r.run_id for r in instance.get_runs() if r.run_id != killed_run_id)
    assert_recovered(killed_run_id, rerun_id, dagster_env)


def test_a_queued_rerun_under_the_daemon_completes(dagster_env, fake_zenodo, tmp_path, monkeypatch):
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO_ROOT, env=dagster_env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        killed_run_id = kill_a_run_midway(dagster_env, fake_zenodo, tmp_path, monkeypatch)
        started = time.monotonic()
        launch = subprocess.run(
            job_command("launch", tmp_path), cwd=REPO_ROOT, env=dagster_env, capture_output=True, text=True, timeout=120
        )
        assert launch.returncode == 0, launch.stdout + launch.stderr
        with dg.DagsterInstance.get() as instance:
            rerun_id = next(r.run_id for r in instance.get_runs() if r.run_id != killed_run_id)
            deadline = time.monotonic() + RERUN_TIMEOUT_SECONDS
            while not instance.get_run_by_id(rerun_id).is_finished:
                status = instance.get_run_by_id(rerun_id).status
                assert time.monotonic() < deadline, (
                    f"the queued rerun is still {status} after {RERUN_TIMEOUT_SECONDS} s"
                )
                time.sleep(1)
        print(f"queued rerun completed in {time.monotonic() - started:.1f} s")
        assert_recovered(killed_run_id, rerun_id, dagster_env)
    finally:
        stop_process_group(daemon, grace_seconds=20)
