"""An unknown partition key is one line naming the format and the range, from the real `dagster` CLI too."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from dataset_catalog.defs.common.daily_partitions import UnknownPartitionError
from dataset_catalog.defs.huggingface.partitions import HF_PARTITIONS_START, hf_daily_partitions
from dataset_catalog.defs.zenodo.partitions import ZENODO_PARTITIONS_START
from dataset_catalog_tests.conftest import REPO_ROOT


def _last_day() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).date().isoformat()  # today's partition opens at midnight


def _message(key: str, first_day: str) -> str:
    return (
        f"No partition '{key}': partitions are days written YYYY-MM-DD (UTC), from {first_day} to {_last_day()}; "
        "give one of them (--partition DAY, or --partition-range START...END)."
    )


def _materialize_with_the_cli(dagster_home, *args: str) -> subprocess.CompletedProcess:
    """`dagster asset materialize -m dataset_catalog.definitions ARGS` as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "dataset_catalog.definitions", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "DAGSTER_HOME": str(dagster_home), "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@dg.asset(partitions_def=hf_daily_partitions)
def daily_asset(context) -> str:
    return context.partition_key


@pytest.mark.parametrize("key", ["2026-13-01", "2019-12-31", "2099-01-01", "yesterday"])
def test_a_key_that_is_no_partition_fails_before_the_run_naming_format_and_range(key):
    with pytest.raises(UnknownPartitionError) as raised:
        dg.materialize([daily_asset], partition_key=key)
    assert str(raised.value) == _message(key, HF_PARTITIONS_START)


def test_the_first_and_last_partitions_still_run():
    for key in (HF_PARTITIONS_START, _last_day()):
        result = dg.materialize([daily_asset], partition_key=key)
        assert result.output_for_node("daily_asset") == key


def test_a_control_character_in_the_key_is_escaped_and_a_long_key_cut():
    with pytest.raises(UnknownPartitionError) as raised:
        dg.materialize([daily_asset], partition_key="\x1b[31m" + "9" * 100)
    assert "\x1b" not in str(raised.value)
    assert str(raised.value).startswith("No partition '\\x1b[31m" + "9" * 35 + "': ")


@pytest.mark.slow  # ~5 s each: the dagster CLI loading the definitions
@pytest.mark.parametrize(
    ("asset", "option", "bad_key", "first_day"),
    [
        ("hf_datasets", ["--partition", "2026-13-01"], "2026-13-01", HF_PARTITIONS_START),
        ("zenodo_datasets", ["--partition", "2012-01-01"], "2012-01-01", ZENODO_PARTITIONS_START),
        ("hf_datasets", ["--partition-range", "2020-01-01...2099-01-01"], "2099-01-01", HF_PARTITIONS_START),
    ],
)
def test_dagster_asset_materialize_prints_one_line_not_a_traceback(tmp_path, asset, option, bad_key, first_day):
    completed = _materialize_with_the_cli(tmp_path, "--select", asset, *option)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    errors = [line for line in completed.stderr.splitlines() if "partition" in line.lower() and "Error" in line]
    assert errors == [f"Error: {_message(bad_key, first_day)}"]


@pytest.mark.slow  # ~5 s: the dagster CLI loading the definitions
def test_a_reversed_range_is_one_line_before_any_run(tmp_path):
    """`--partition-range 2026-11-20...2026-11-01` crashed with IndexError, then failed the run's step
    with a traceback; now it is refused when the run would be created."""
    completed = _materialize_with_the_cli(
        tmp_path, "--select", "hf_datasets", "--partition-range", "2026-11-20...2026-11-01"
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr + completed.stdout
    errors = [line for line in completed.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        "Error: Partition range 2026-11-20...2026-11-01 is reversed: its start is after its end. Give START...END "
        f"with START <= END, days written YYYY-MM-DD (UTC) from {HF_PARTITIONS_START} to {_last_day()}."
    ]
