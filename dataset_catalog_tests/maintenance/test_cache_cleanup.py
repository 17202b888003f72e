import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from dataset_catalog.common.cache_lock import MARKER_PREFIX, live_markers, mark_in_use
from dataset_catalog.defs.maintenance.assets import remove_old_cache
from dataset_catalog.maintenance.cache_cleanup import remove_old_cache_files

DAY = 24 * 3600


def make_file(path: Path, size: int, age_seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_removes_old_files_keeps_recent_and_in_use(tmp_path):
    cache = tmp_path / "cache"
    old = make_file(cache / "meta-kaggle" / "Datasets.csv", 1000, 2 * DAY)
    old_tmp = make_file(cache / "meta-kaggle" / "part.tmp", 24, 2 * DAY)
    recent = make_file(cache / "meta-kaggle" / "Users.csv", 500, 3600)
    young_tmp = make_file(cache / "dl" / "x.tmp", 10, 600)
    in_use_old = make_file(cache / "seed" / "sub" / "Kernels.csv", 777, 3 * DAY)
    emptied = make_file(cache / "gone" / "f.bin", 5, 2 * DAY)
    outside = make_file(tmp_path / "outside" / "keep.bin", 5, 5 * DAY)
    (cache / "link-to-outside").symlink_to(outside.parent)
    with mark_in_use(cache / "seed") as marker:
        assert marker.name == f"{MARKER_PREFIX}{os.getpid()}"
        report = remove_old_cache_files(cache, max_age_hours=24)
        assert in_use_old.exists()
    assert not marker.exists()
    assert (report.files_removed, report.bytes_freed) == (3, 1000 + 24 + 5)
    assert not old.exists() and not old_tmp.exists() and not emptied.exists()
    assert recent.exists() and young_tmp.exists() and outside.exists()
    assert not (cache / "gone").exists()  # emptied directory removed
    assert report.skipped_in_use == 1 and report.skipped_recent == 2


def test_stale_marker_of_a_dead_process_is_removed(tmp_path):
    cache = tmp_path / "cache"
    stale = cache / "seed" / f"{MARKER_PREFIX}{dead_pid()}"
    data = make_file(cache / "seed" / "Datasets.csv", 100, 2 * DAY)
    stale.write_text("")
    report = remove_old_cache_files(cache, max_age_hours=24)
    assert report.stale_markers_removed == 1 and not stale.exists()
    assert not data.exists() and report.bytes_freed == 100


def test_marker_of_a_live_other_process_protects_the_tree(tmp_path):
    cache = tmp_path / "cache"
    data = make_file(cache / "seed" / "deep" / "Datasets.csv", 100, 2 * DAY)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (cache / "seed" / f"{MARKER_PREFIX}{proc.pid}").write_text("")  # no start token: pid alone
        report = remove_old_cache_files(cache, max_age_hours=24)
        assert data.exists() and report.files_removed == 0 and report.skipped_in_use == 1
        assert len(live_markers(cache / "seed")[0]) == 1
    finally:
        proc.kill()
        proc.wait()
    assert remove_old_cache_files(cache, max_age_hours=24).files_removed == 1


def test_recycled_pid_with_another_start_time_is_stale(tmp_path):
    directory = tmp_path / "cache" / "seed"
    directory.mkdir(parents=True)
    (directory / f"{MARKER_PREFIX}{os.getpid()}").write_text("1")  # our pid, but not our start time
    assert live_markers(directory, remove_stale=True) == ([], 1)


def test_asset_reports_files_and_bytes(tmp_path, monkeypatch):
    cache = tmp_path / "envcache"
    monkeypatch.setenv("DATASET_CATALOG_CACHE_DIR", str(cache))
    make_file(cache / "a" / "old.csv", 2048, 30 * 3600)
    make_file(cache / "a" / "new.csv", 10, 60)
    result = dg.materialize(
        [remove_old_cache], run_config=dg.RunConfig(ops={"remove_old_cache": {"config": {"max_age_hours": 24}}})
    )
    metadata = result.asset_materializations_for_node("remove_old_cache")[0].metadata
    assert (metadata["files_removed"].value, metadata["bytes_freed"].value) == (1, 2048)
    assert metadata["kept_recent_files"].value == 1 and metadata["cache_dir"].value == str(cache)
    missing = dg.materialize(
        [remove_old_cache],
        run_config=dg.RunConfig(ops={"remove_old_cache": {"config": {"cache_dir": str(tmp_path / "none")}}}),
    )
    assert missing.asset_materializations_for_node("remove_old_cache")[0].metadata["files_removed"].value == 0
