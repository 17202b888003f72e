"""`kaggle_seeded_datasets` end to end: the real Kaggle client downloads from the fake Kaggle API."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.kaggle.assets import KaggleSeedConfig, kaggle_seeded_datasets
from dataset_catalog.kaggle.meta_kaggle import MetaKaggleJoin
from dataset_catalog.kaggle.meta_kaggle_csv import META_KAGGLE_FILES
from dataset_catalog.kaggle.seed import META_KAGGLE_REF, cache_in_use, meta_kaggle_in_use, remove_stale_work_dirs
from dataset_catalog_tests.conftest import REPO_ROOT
from dataset_catalog_tests.fakes.meta_kaggle import EXPECTED_REFS, EXPECTED_SKIPPED, FILES

NEEDED = {f"{name}.csv" for name in META_KAGGLE_FILES}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DATASET_CATALOG_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def meta_kaggle(fake_kaggle):
    """Meta Kaggle on the fake: the six files (the big one served zipped, as Kaggle does) and one more."""
    fake_kaggle.add_dataset(META_KAGGLE_REF, "Meta Kaggle")
    for name, content in FILES.items():
        fake_kaggle.add_file(META_KAGGLE_REF, f"{name}.csv", content, zipped=name == "DatasetVersions")
    fake_kaggle.add_file(META_KAGGLE_REF, "KernelVersions.csv", b"Id\n1\n")  # must never be fetched
    return fake_kaggle


def materialize(resource, database_url, **config):
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [kaggle_seeded_datasets],
            resources={"kaggle": resource, "catalog": CatalogResource(database_url=database_url)},
            run_config=dg.RunConfig(ops={"kaggle_seeded_datasets": KaggleSeedConfig(**config)}),
            instance=instance,
        )
        assert result.success
        return result.asset_materializations_for_node("kaggle_seeded_datasets")[0].metadata


def downloaded(fake) -> list[str]:
    return sorted(body["fileName"] for body in fake.bodies("DownloadDataset"))


def test_seed_asset_downloads_the_six_files_and_seeds(meta_kaggle, kaggle_resource, cache_dir, store, database_url):
    metadata = materialize(kaggle_resource, database_url, batch_size=2)
    assert downloaded(meta_kaggle) == sorted(NEEDED)
    assert {p.name for p in (cache_dir / "meta-kaggle").iterdir()} == NEEDED  # marker gone, no temp files
    assert (cache_dir / "meta-kaggle" / "DatasetVersions.csv").read_bytes() == FILES["DatasetVersions"]  # unzipped
    assert {r["external_id"] for r in store.fetch_datasets("kaggle")} == set(EXPECTED_REFS)
    assert metadata["source"].value == "kaggle_meta_csv"
    assert (metadata["total_processed"].value, metadata["total_inserted"].value, metadata["total_updated"].value) == (
        17,
        7,
        0,
    )
    for reason, count in EXPECTED_SKIPPED.items():
        assert metadata[f"skipped_{reason}"].value == count
    assert metadata["dagster/row_count"].value == 7


def test_second_run_uses_the_cache_and_force_redownload_fetches_again(
    meta_kaggle, kaggle_resource, cache_dir, store, database_url
):
    materialize(kaggle_resource, database_url)
    assert len(meta_kaggle.calls("DownloadDataset")) == 6

    metadata = materialize(kaggle_resource, database_url)
    assert len(meta_kaggle.calls("DownloadDataset")) == 6  # nothing downloaded
    assert (metadata["total_inserted"].value, metadata["total_updated"].value) == (0, 0)

    # Meta Kaggle moved on; only a forced download sees it.
    files = {f.name: f for f in meta_kaggle.datasets[META_KAGGLE_REF].files}
    files["Datasets.csv"].content = FILES["Datasets"].replace(b",1000,200,30,", b",2000,400,60,")
    metadata = materialize(kaggle_resource, database_url, force_redownload=True)
    assert downloaded(meta_kaggle) == sorted([*NEEDED, *NEEDED])
    assert (metadata["total_inserted"].value, metadata["total_updated"].value) == (0, 1)
    row = store.fetch_datasets("kaggle", ["alice/titanic-clean"])[0]
    assert (row["view_count"], row["download_count"], row["like_count"]) == (2000, 400, 60)


def test_a_fully_cached_seed_needs_no_credentials(
    meta_kaggle, kaggle_resource, cache_dir, store, database_url, monkeypatch
):
    materialize(kaggle_resource, database_url)
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    requests_before = len(meta_kaggle.requests)
    metadata = materialize(kaggle_resource, database_url)
    assert metadata["total_processed"].value == 17
    assert len(meta_kaggle.requests) == requests_before


def test_a_killed_download_is_never_taken_for_a_file(meta_kaggle, kaggle_resource, cache_dir, database_url):
    folder = cache_dir / "meta-kaggle"
    folder.mkdir(parents=True)
    (folder / ".Users.csv.deadbeef.part").write_bytes(FILES["Users"][:20])  # what a kill mid-download leaves
    materialize(kaggle_resource, database_url)
    assert "Users.csv" in downloaded(meta_kaggle)
    assert (folder / "Users.csv").read_bytes() == FILES["Users"]


def test_cache_cleanup_never_deletes_files_a_seed_uses(tmp_path):
    """The maintenance cleanup (real code) skips the folder while the seed marks it, not after."""
    from dataset_catalog.maintenance.cache_cleanup import remove_old_cache_files

    folder = tmp_path / "cache" / "meta-kaggle"
    folder.mkdir(parents=True)
    (folder / "Users.csv").write_bytes(FILES["Users"])
    old = time.time() - 30 * 24 * 3600
    os.utime(folder / "Users.csv", (old, old))
    with meta_kaggle_in_use(folder):
        assert cache_in_use(folder)
        report = remove_old_cache_files(tmp_path / "cache", max_age_hours=1)
        assert report.skipped_in_use >= 1 and (folder / "Users.csv").exists()
    assert not cache_in_use(folder)
    remove_old_cache_files(tmp_path / "cache", max_age_hours=1)
    assert not (folder / "Users.csv").exists()


def test_a_killed_seeds_marker_and_scratch_folder_are_stale(tmp_path):
    folder = tmp_path / "meta-kaggle"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    folder.mkdir()
    (folder / f".in-use.{pid}").write_text("12345")
    (folder / f".join-{pid}-abc").mkdir()
    assert not cache_in_use(folder)
    assert [p.name for p in remove_stale_work_dirs(folder)] == [f".join-{pid}-abc"]
    assert list(folder.iterdir()) == []


def _generated_meta_kaggle(folder: Path) -> dict[str, Path]:
    """3,000 datasets from the benchmark's generator: real columns, multi-line quoted text, dirty ids."""
    spec = importlib.util.spec_from_file_location(
        "meta_kaggle_generator", REPO_ROOT / "benchmarks/meta_kaggle_generator.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name].generate(folder, 0.006, threads=1)


UNBALANCED_LINE = b'999998,"unbalanced,3,4\n'
SHORT_LINE = b"16,1,1\n"


@pytest.mark.slow  # ~7 s each: six files of 3,000 datasets through the fake Kaggle
@pytest.mark.parametrize("where", ["near_the_start", "two_thirds_in", "last_line"])
def test_an_unbalanced_quote_and_a_short_line_cost_their_own_lines_only(
    fake_kaggle, kaggle_resource, cache_dir, store, database_url, tmp_path, where
):
    """An unbalanced quote two thirds into Datasets.csv lost the third after it (or aborted the seed)."""
    paths = _generated_meta_kaggle(tmp_path / "generated")
    with MetaKaggleJoin.build(paths) as clean:
        clean_refs = {r["external_id"] for batch in clean.batches(5000) for r in batch}
        clean_lines = clean.report.lines_read
    lines = paths["Datasets"].read_bytes().splitlines(keepends=True)  # lines[0] is the header
    assert clean_lines == len(lines) - 1 >= 3000
    bad_at = {"near_the_start": 3, "two_thirds_in": 2 * len(lines) // 3, "last_line": len(lines)}[where]
    lines.insert(bad_at, UNBALANCED_LINE)
    lines.insert(len(lines) // 2 if where != "two_thirds_in" else len(lines) // 3, SHORT_LINE)
    fake_kaggle.add_dataset(META_KAGGLE_REF, "Meta Kaggle")
    for name, path in paths.items():
        content = b"".join(lines) if name == "Datasets" else path.read_bytes()
        fake_kaggle.add_file(META_KAGGLE_REF, f"{name}.csv", content)

    metadata = materialize(kaggle_resource, database_url)

    seeded = {r["external_id"] for r in store.fetch_datasets("kaggle")}
    assert seeded <= clean_refs and len(clean_refs - seeded) <= 5  # at most a handful of good rows lost
    assert metadata["total_processed"].value >= clean_lines - 5
    assert metadata["csv_rejected_lines"].value == 2
    samples = metadata["csv_rejected_samples"].value.splitlines()
    assert f'Datasets.csv line {lines.index(UNBALANCED_LINE) + 1}: unbalanced quote: 999998,"unbalanced,3,4' in samples
    assert f"Datasets.csv line {lines.index(SHORT_LINE) + 1}: missing columns: 16,1,1" in samples
