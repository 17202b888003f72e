"""The code location: every object under defs/ loads and validates, as `dagster dev`, the
`dagster` CLI and `dg` load it, and a new source folder is picked up without an edit elsewhere."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from dataset_catalog.catalog import schema
from dataset_catalog.definitions import defs
from dataset_catalog.defs.common.catalog_sources import catalog_source_asset_keys
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog_tests.conftest import REPO_ROOT
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group

# Each catalog-writing asset and the source its rows belong to.
SOURCE_OF = {
    "hf_datasets": "huggingface",
    "kaggle_seeded_datasets": "kaggle",
    "kaggle_enriched_datasets": "kaggle",
    "kaggle_latest_datasets": "kaggle",
    "zenodo_datasets": "zenodo",
    "openml_datasets": "openml",
}
SOURCE_ASSETS = set(SOURCE_OF)
ASSETS = SOURCE_ASSETS | {
    "dataset_embeddings",
    "dataset_embedding_units",
    "dataset_clusters",
    "dataset_link_status",
    "remove_old_cache",
    "catalog_health",
}


def _env(dagster_home) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DAGSTER_HOME": str(dagster_home)}


def _fresh_checkout(folder):
    """What a clone holds of the code location: the package, pyproject.toml and the instance files."""
    for name in ("dataset_catalog", "deploy"):
        shutil.copytree(REPO_ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "workspace.yaml", "dagster.yaml"):
        shutil.copy(REPO_ROOT / name, folder / name)
    return folder


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSETS
    assert set(repository.get_top_level_resources()) == {
        "catalog",
        "huggingface",
        "kaggle",
        "zenodo",
        "openml",
        "embedding_model",
    }


def test_kaggle_objects_are_wired_as_documented():
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    for name in ("kaggle_seeded_datasets", "kaggle_enriched_datasets", "kaggle_latest_datasets"):
        assert graph.get(dg.AssetKey(name)).pools == {"kaggle_api"}, name
    seed = graph.get(dg.AssetKey("kaggle_seeded_datasets")).assets_def
    assert {"kaggle", "catalog"} <= set(seed.required_resource_keys)
    assert dg.AssetKey("kaggle_seeded_datasets") in graph.get(dg.AssetKey("kaggle_enriched_datasets")).parent_keys
    assert isinstance(defs.resources["kaggle"], KaggleResource)
    assert defs.resources["kaggle"].requests_per_second == 1.0
    for name in ("kaggle_enrichment_job", "kaggle_latest_job"):
        assert repository.get_job(name).tags["dataset_catalog/source"] == "kaggle"


def test_every_asset_carries_owners_code_references_storage_kinds_and_its_source():
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node, name = graph.get(key), key.to_user_string()
        assert node.owners == ["team:dataset-catalog"], name
        [reference] = node.metadata["dagster/code_references"].code_references
        lines = Path(reference.file_path).read_text().splitlines()[reference.line_number - 1 :]
        assert lines[0].startswith("@catalog_asset("), name  # the line the reference points at: the decorator
        assert any(line.startswith(f"def {name}(") for line in lines[:20]), name
        assert ("sqlite" in node.kinds) is (name != "remove_old_cache"), name  # the embedded default's storage
        assert len(node.kinds) <= 3, name
    for name in SOURCE_ASSETS:
        node = graph.get(dg.AssetKey(name))
        assert node.tags["dataset_catalog/source"] == SOURCE_OF[name]
        columns = {c.name: c.type for c in node.metadata["dagster/column_schema"].columns}
        assert columns["external_id"] == "varchar(512)" and columns["source_meta"] == "json"
        assert list(columns) == [c.name for c in schema.datasets.columns]  # every column, the standard fields too
        assert node.metadata["dagster/table_name"] == "datasets"


def test_the_storage_kind_follows_the_configured_catalog(monkeypatch):
    from dataset_catalog.defs.common.catalog_asset import storage_kind

    assert storage_kind() == "sqlite"
    monkeypatch.setenv("DATASET_CATALOG_DATABASE_URL", "postgresql://u@db.example/catalog")
    assert storage_kind() == "postgres"


def test_catalog_wide_assets_run_after_every_source_asset():
    graph = defs.get_repository_def().asset_graph
    declared = {key.to_user_string() for key in catalog_source_asset_keys()}
    assert declared == SOURCE_ASSETS
    for consumer in ("dataset_embedding_units", "dataset_link_status"):
        parents = {key.to_user_string() for key in graph.get(dg.AssetKey(consumer)).parent_keys}
        assert parents == SOURCE_ASSETS, consumer
    # The whole-catalog step follows the units (and still every source, for a run of its own).
    parents = {key.to_user_string() for key in graph.get(dg.AssetKey("dataset_embeddings")).parent_keys}
    assert parents == SOURCE_ASSETS | {"dataset_embedding_units"}


@pytest.mark.slow
def test_cli_validates_the_workspace_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "All code locations passed validation" in result.stdout + result.stderr


@pytest.mark.slow
def test_dg_checks_lists_and_launches(tmp_path):
    dg_cli = shutil.which("dg", path=os.path.dirname(sys.executable))
    assert dg_cli, "dagster-dg-cli is a dependency: `dg` belongs next to this Python"
    env = {**_env(tmp_path), "VIRTUAL_ENV": sys.prefix}

    def run_dg(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([dg_cli, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done

    run_dg("check", "defs")
    listed = json.loads(run_dg("list", "defs", "--json").stdout)
    assert {a["asset_key"] for a in listed["assets"]} == ASSETS
    cache = tmp_path / "cache"
    (cache / "old").mkdir(parents=True)
    (cache / "old" / "file.bin").write_bytes(b"x")
    os.utime(cache / "old" / "file.bin", (0, 0))
    config = {"ops": {"remove_old_cache": {"config": {"cache_dir": str(cache)}}}}
    run_dg("launch", "--assets", "remove_old_cache", "--config-json", json.dumps(config))
    assert not (cache / "old" / "file.bin").exists()


@pytest.mark.slow
def test_a_new_source_folder_is_picked_up_without_editing_anything_else(tmp_path):
    project = tmp_path / "project"
    _fresh_checkout(project)
    source = project / "dataset_catalog" / "defs" / "example_source"
    source.mkdir()
    (source / "__init__.py").write_text('CATALOG_SOURCE_ASSETS = ("example_datasets",)\n')
    (source / "assets.py").write_text(
        textwrap.dedent("""
        import dagster as dg

        @dg.asset(group_name="example_source")
        def example_datasets() -> None: ...
    """)
    )
    script = textwrap.dedent("""
        import json
        import dagster as dg
        from dataset_catalog.definitions import defs
        graph = defs.get_repository_def().asset_graph
        print(json.dumps({name: sorted(k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys)
                          for name in ("dataset_embedding_units", "dataset_link_status")}))
    """)
    env = {**_env(tmp_path), "PYTHONPATH": str(project), "PYTHONNOUSERSITE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    parents = json.loads(result.stdout.strip().splitlines()[-1])
    assert (
        parents["dataset_embedding_units"]
        == parents["dataset_link_status"]
        == sorted({*SOURCE_ASSETS, "example_datasets"})
    )


@pytest.mark.slow
def test_a_fresh_checkout_validates_and_opens_the_ui_with_no_environment(tmp_path):
    """`dagster definitions validate` and `dagster dev` in the repo root failed on the production
    config (DAGSTER_PG_PORT not set); the embedded default's dagster.yaml needs no variable."""
    checkout = _fresh_checkout(tmp_path / "clone")
    bare = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"}  # no DAGSTER_HOME, no catalog settings
    validate = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "dataset_catalog.definitions"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=180,
        env=bare,
    )
    assert validate.returncode == 0, validate.stdout[-2000:] + validate.stderr[-2000:]
    assert "All code locations passed validation" in validate.stdout + validate.stderr
    port = free_port()
    dev = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-p", str(port)],
        cwd=checkout,
        env=bare,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        query = b'{"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"}'
        status = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and dev.poll() is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=5) as answer:
                    entries = json.load(answer)["data"]["workspaceOrError"]["locationEntries"]
                status = [(e["name"], e["loadStatus"]) for e in entries]
                if status == [("dataset_catalog", "LOADED")]:
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)
        assert status == [("dataset_catalog", "LOADED")], f"dagster dev did not load the code location: {status}"
    finally:
        stop_process_group(dev, grace_seconds=30)
