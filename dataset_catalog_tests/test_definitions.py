"""The code location loads and validates, as `dagster dev` and the CLI would load it."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from dataset_catalog.definitions import defs

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    asset_keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert "hf_datasets" in asset_keys
    assert {"catalog", "huggingface"} <= set(repository.get_top_level_resources())


def test_cli_validates_the_workspace_module(tmp_path):
    # DAGSTER_HOME set, as in the README: without it the CLI would read ./dagster.yaml (production).
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "All code locations passed validation" in result.stdout + result.stderr
