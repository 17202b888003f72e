"""A seed SIGKILLed half way and run again leaves exactly the expected rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.kaggle.meta_kaggle import MetaKaggleJoin
from dataset_catalog.kaggle.seed import remove_stale_work_dirs, seed_catalog

pytestmark = pytest.mark.slow  # SIGKILLed subprocesses

REPO = Path(__file__).resolve().parents[2]
SCALE = 0.04  # 20k datasets: a few seconds of 20-row batches, so the kill lands mid-way

CHILD = """
import sys
from pathlib import Path

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.kaggle.seed import seed_catalog
folder, url, work = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
paths = {p.stem: p for p in folder.glob("*.csv")}
seed_catalog(CatalogStore(url), paths, batch_size=20, temp_parent=work)
"""


def generate(folder: Path) -> dict[str, Path]:
    spec = importlib.util.spec_from_file_location("meta_kaggle_generator", REPO / "benchmarks/meta_kaggle_generator.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name].generate(folder, SCALE, threads=1)


def expected_rows(paths) -> dict[str, tuple]:
    with MetaKaggleJoin.build(paths) as joined:
        return {
            r["external_id"]: (r["title"], r["view_count"], r["like_count"], r["tags"])
            for batch in joined.batches(5000)
            for r in batch
        }


def test_killed_seed_rerun_leaves_exact_rows(tmp_path, store, database_url):
    paths = generate(tmp_path / "meta-kaggle")
    expected = expected_rows(paths)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "meta-kaggle"), database_url, str(work)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        written = 0
        while written == 0 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
            written = store.count_datasets("kaggle")
        assert child.poll() is None, f"seed ended before it could be killed: {child.stderr.read()[-2000:]!r}"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    after_kill = store.count_datasets("kaggle")
    assert 0 < after_kill < len(expected)  # really killed half way
    assert len(list(work.glob(".join-*"))) == 1  # its scratch folder, left behind by the kill

    report = seed_catalog(store, paths, batch_size=500)
    assert report.counts.inserted == len(expected) - after_kill
    assert report.counts.unchanged == after_kill and report.counts.updated == 0
    with store.engine.connect() as conn:
        total, distinct = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(datasets.c.external_id))).where(
                datasets.c.source == "kaggle"
            )
        ).one()
    assert total == distinct == len(expected)
    got = {
        r["external_id"]: (r["title"], r["view_count"], r["like_count"], r["tags"])
        for r in store.fetch_datasets("kaggle")
    }
    assert got == expected
    assert {r["enrichment_status"] for r in store.fetch_datasets("kaggle")} == {"pending"}
    assert [p.name for p in remove_stale_work_dirs(work)][0].startswith(f".join-{child.pid}-")
    assert not list(work.glob(".join-*"))
