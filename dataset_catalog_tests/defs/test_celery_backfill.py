"""A backfill of embedding units through Dagster's own distributed engine: the daemon's run queue
launches one run per unit (BackfillPolicy.multi_run), each run's step goes through Redis to one of
two dagster-celery workers, and the catalog ends with exactly the right vectors; a worker killed
mid-step loses nothing: its task goes back to the queue and the other worker runs it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.schema import dataset_embeddings, datasets
from dataset_catalog.embeddings.units import EmbeddingUnit
from dataset_catalog_tests.conftest import REPO_ROOT
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group
from dataset_catalog_tests.fakes.corpus import CORPUS
from dataset_catalog_tests.fakes.getting_started import GETTING_STARTED_ROWS

pytestmark = pytest.mark.slow  # Redis, two Celery workers, the daemon and its runs
BIN = Path(sys.executable).parent
VISIBILITY_TIMEOUT_SECONDS = 45  # a killed worker's task is handed on after this


def redis_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        pytest.fail(
            "redis-server is not installed, so the Celery executor cannot be tested. "
            "Install it with: apt-get update && apt-get install -y redis-server",
            pytrace=False,
        )
    return path


@contextmanager
def _process(args, log_path: Path, env: dict):
    with open(log_path, "w") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            stop_process_group(process, grace_seconds=10)


def _wait(condition, what: str, timeout: float, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
            pytest.fail(f"{what} did not happen in {timeout:.0f} s\n{tails}")
        time.sleep(1)


@pytest.fixture
def deployment(tmp_path, encoder):
    """Redis, a SQLite catalog of the corpus, a Dagster home whose pool lets two units run at once,
    two single-process Celery workers and the daemon; yields (env, instance, logs, workers)."""
    catalog_url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with CatalogStore(catalog_url) as store:
        store.upsert_datasets([dict(r) for r in CORPUS + GETTING_STARTED_ROWS])
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        yaml.safe_dump(
            {
                "concurrency": {"pools": {"default_limit": 2}, "runs": {"max_concurrent_runs": 4}},
                "telemetry": {"enabled": False},
            }
        )
    )
    settings = {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "broker_transport_options": {"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS},
    }
    worker_config = tmp_path / "celery-worker.yaml"
    worker_config.write_text(
        yaml.safe_dump({"execution": {"config": {"broker": broker, "backend": broker, "config_source": settings}}})
    )
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts `celery`
        "PYTHONPATH": str(REPO_ROOT),
        "DAGSTER_HOME": str(home),
        "DATASET_CATALOG_DATABASE_URL": catalog_url,
        "DATASET_CATALOG_EXECUTOR": "celery",
        "DATASET_CATALOG_CELERY_BROKER": broker,
        "DATASET_CATALOG_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
        "HF_HUB_OFFLINE": "1",
    }
    logs = [tmp_path / name for name in ("redis.log", "daemon.log", "w1.log", "w2.log")]
    with ExitStack() as stack:
        stack.enter_context(
            _process([redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""], logs[0], env)
        )
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        workers = {}
        for name, log in (("w1", logs[2]), ("w2", logs[3])):
            args = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
            args += ["-y", str(worker_config), "-n", name, "-l", "info", "--", "--concurrency=1"]
            workers[name] = stack.enter_context(_process(args, log, env))
        for log in logs[2:]:
            _wait(lambda log=log: " ready." in log.read_text(errors="replace"), f"{log.stem} ready", 120, logs)
        daemon_args = [str(BIN / "dagster-daemon"), "run", "-m", "dataset_catalog.definitions"]
        stack.enter_context(_process(daemon_args, logs[1], env))
        yield env, instance, logs, workers, catalog_url


def _units_with_rows(catalog_url: str) -> dict[str, set[int]]:
    with CatalogStore(catalog_url) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.select(datasets.c.id, datasets.c.source).where(datasets.c.is_active.is_(True)))
        units: dict[str, set[int]] = {}
        for dataset_id, source in rows:
            units.setdefault(EmbeddingUnit(source, dataset_id % 16).key, set()).add(dataset_id)
    return units


def _embedded(catalog_url: str) -> set[int]:
    with CatalogStore(catalog_url) as store, store.engine.connect() as conn:
        return set(conn.execute(sa.select(dataset_embeddings.c.dataset_id)).scalars())


def _backfill(env: dict, keys: list[str]) -> None:
    args = [str(BIN / "dagster"), "job", "backfill", "-m", "dataset_catalog.definitions"]
    args += ["-j", "dataset_embedding_units_job", "--partitions", ",".join(keys), "--noprompt"]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _finished_runs(instance, keys: list[str]) -> list[dg.DagsterRun] | None:
    runs = [
        r
        for r in instance.get_runs(dg.RunsFilter(job_name="dataset_embedding_units_job"))
        if r.tags.get("dagster/partition") in keys
    ]
    done = [r for r in runs if r.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)]
    return runs if len(runs) == len(keys) and len(done) == len(keys) else None


def _celery_workers_of(instance, run_id: str) -> set[str]:
    """The Celery workers that executed the run's steps, as the executor recorded them."""
    names = set()
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data
        for key, value in (data.metadata or {}).items() if data else ():
            if key == "Celery worker":
                names.add(str(value.value).split("@")[0])
    return names


def _worker_started_a_step(log: Path) -> bool:
    return "Executing steps" in log.read_text(errors="replace") or "execute_plan[" in log.read_text(errors="replace")


def test_a_backfill_of_embedding_units_runs_on_two_celery_workers_and_survives_a_killed_one(deployment):
    env, instance, logs, workers, catalog_url = deployment
    units = _units_with_rows(catalog_url)
    keys = sorted(units)
    assert len(keys) >= 8, keys
    first, second = keys[:4], keys[4:8]

    # Both workers alive: four units, one run each, two at a time (the pool).
    _backfill(env, first)
    runs = _wait(lambda: _finished_runs(instance, first), "the first backfill's runs", 420, logs)
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 4
    assert {w for r in runs for w in _celery_workers_of(instance, r.run_id)} == {"w1", "w2"}  # both did work
    expected = {i for key in first for i in units[key]}
    assert _embedded(catalog_url) == expected  # exactly the backfilled units' rows

    # Kill w1 while it executes a step of the second backfill: its task goes back to the queue.
    w1_log = logs[2]
    before = w1_log.read_text(errors="replace").count("execute_plan[")
    _backfill(env, second)
    _wait(lambda: w1_log.read_text(errors="replace").count("execute_plan[") > before, "w1 taking a step", 300, logs)
    os.killpg(workers["w1"].pid, signal.SIGKILL)
    runs = _wait(lambda: _finished_runs(instance, second), "the second backfill's runs", 600, logs)
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 4, [r.status for r in runs]
    expected |= {i for key in second for i in units[key]}
    assert _embedded(catalog_url) == expected  # nothing lost, nothing extra
    materialized = instance.fetch_materializations(dg.AssetKey("dataset_embedding_units"), limit=100).records
    partitions = {m.partition_key for m in materialized}
    assert partitions == set(first) | set(second)
    print(json.dumps({"units": len(partitions)}))
