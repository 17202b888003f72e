"""The Dagster UI in a real headless Chromium: every asset and schedule is shown, a backfilled
partition shows its own counts, catalog_health plots its points, the freshness check shows its
status; screenshots saved.

Needs Debian's `chromium` (apt-get install -y chromium). Screenshots and DOM dumps go to
$DATASET_CATALOG_UI_ARTIFACTS, else <repo>/artifacts/ui/ (gitignored); the path is printed.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from dataset_catalog.definitions import defs
from dataset_catalog_tests.browser import CHROMIUM_FLAGS, chromium_binary
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group

pytestmark = pytest.mark.slow  # a browser and a webserver subprocess

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATION = "dataset_catalog"


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


PARTITIONS = {"2025-03-07": 3, "2025-03-08": 1, "2025-03-09": 4}  # datasets per day


def populate(home: Path) -> None:
    """What an operator would have run: a backfill of three days in one run (with the checks),
    and catalog_health on two days."""
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
    from dataset_catalog.defs.huggingface.assets import hf_datasets
    from dataset_catalog.defs.huggingface.checks import hf_checks
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
    from dataset_catalog.defs.maintenance.assets import catalog_health
    from dataset_catalog_tests.fakes.hf_hub import FakeHub, day_items

    catalog = CatalogResource(database_url=f"sqlite:///{home / 'catalog' / 'catalog.sqlite3'}")
    items = [
        item for day, n in PARTITIONS.items() for item in day_items(datetime.fromisoformat(day).replace(tzinfo=UTC), n)
    ]
    with FakeHub(items) as hub, dg.DagsterInstance.local_temp(str(home)) as instance:
        health = {"catalog": catalog, "embedding_model": EmbeddingModelResource(model="m")}
        assert dg.materialize([catalog_health], resources=health, instance=instance).success
        first, *_, last = PARTITIONS
        backfill = dg.materialize(
            [hf_datasets, *hf_checks],
            resources={"catalog": catalog, "huggingface": HuggingFaceResource(endpoint=hub.url)},
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
            instance=instance,
        )
        assert backfill.success
        assert dg.materialize([catalog_health], resources=health, instance=instance).success


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    # No community pop-up (shown on localhost) over the pages we screenshot.
    (home / "dagster.yaml").write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
    populate(home)
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
    env["DATASET_CATALOG_HOME"] = str(home / "catalog")
    log = (home / "webserver.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server child goes down with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster-webserver exited: {(home / 'webserver.log').read_text()[-3000:]}")
            try:
                data = graphql(
                    base, "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
                )
                entries = data["data"]["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (OSError, KeyError, TypeError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dagster-webserver not ready in 90 s: {(home / 'webserver.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        stop_process_group(process, grace_seconds=20)
        log.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("DATASET_CATALOG_UI_ARTIFACTS") or REPO_ROOT / "artifacts" / "ui")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nUI screenshots and DOM dumps: {folder}")
    return folder


def render(url: str, artifacts: Path, name: str, tmp_path: Path) -> str:
    """The page's DOM after the app has rendered, as visible text; also saves a screenshot."""
    profile = tmp_path / f"chrome-{name}"
    profile.mkdir()
    screenshot = artifacts / f"{name}.png"
    command = [
        chromium_binary(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=20000",
        f"--screenshot={screenshot}",
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium failed on {url}: {done.stderr[-2000:]}"
    (artifacts / f"{name}.html").write_text(done.stdout)
    assert screenshot.stat().st_size > 10_000, f"screenshot of {url} is (nearly) empty"
    # Only what the page renders: scripts and styles out, tags stripped.
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", done.stdout, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


def expected_names():
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            groups.setdefault(node.group_name, set()).add(key.to_user_string())
    return groups, {s.name for s in repo.schedule_defs}


def missing(names, text) -> list[str]:
    return sorted(n for n in names if not re.search(rf"(?<![\w/]){re.escape(n)}(?![\w])", text))


def test_every_asset_and_schedule_is_shown_in_the_browser(webserver, artifacts, tmp_path):
    groups, schedules = expected_names()
    assets = set().union(*groups.values())
    assert {"hf_datasets", "dataset_link_status", "remove_old_cache"} <= assets

    catalog = render(f"{webserver}/assets", artifacts, "asset_catalog", tmp_path)
    assert not missing(assets, catalog), f"asset catalog page lacks {missing(assets, catalog)}"

    for group, names in sorted(groups.items()):
        graph = render(
            f"{webserver}/locations/{LOCATION}/asset-groups/{group}", artifacts, f"asset_graph_{group}", tmp_path
        )
        assert not missing(names, graph), f"asset graph of group {group} lacks {missing(names, graph)}"

    automation = render(f"{webserver}/automation", artifacts, "automation", tmp_path)
    assert not missing(schedules, automation), f"automation page lacks schedules {missing(schedules, automation)}"


def test_a_backfilled_partition_shows_its_own_counts(webserver, artifacts, tmp_path):
    """Every partition of a range run used to show the run's totals (8 inserted on each day)."""
    shown = {}
    for day in PARTITIONS:
        page = render(
            f"{webserver}/assets/hf_datasets?view=partitions&partition={day}",
            artifacts,
            f"hf_datasets_partition_{day}",
            tmp_path,
        )
        match = re.search(r"total_inserted\s+(\d+)", " ".join(page.split()))
        assert match, f"the partition page of {day} shows no total_inserted"
        shown[day] = int(match[1])
    assert shown == PARTITIONS


def test_catalog_health_plots_more_than_one_point(webserver, artifacts):
    """The Overview tab's metadata, switched to Plots, draws each number over the two materializations."""
    from playwright.sync_api import sync_playwright

    query = '{ assetOrError(assetKey: {path: ["catalog_health"]}) { ... on Asset { assetMaterializations { timestamp } } } }'
    assert len(graphql(webserver, query)["data"]["assetOrError"]["assetMaterializations"]) == 2
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=CHROMIUM_FLAGS[1:])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{webserver}/assets/catalog_health", wait_until="networkidle")  # the Overview tab
            page.get_by_text("Plots", exact=True).first.click()
            page.wait_for_selector("canvas", timeout=20_000)
            page.wait_for_timeout(1000)  # the charts' drawing animation
            page.screenshot(path=str(artifacts / "catalog_health_plots.png"), full_page=True)
            text = page.inner_text("body")
            # Drawn pixels in each chart: a chart of one point would still draw axes, so count
            # the plots of numbers that changed between the two points and check they are drawn.
            inked = page.evaluate(
                """() => [...document.querySelectorAll('canvas')].map(c => {
                       const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                       let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })"""
            )
        finally:
            browser.close()
    assert not missing({"huggingface/rows", "huggingface/enriched", "kaggle/pending"}, text)
    assert len(inked) >= 14 and all(n > 0 for n in inked), inked  # one chart per number, each drawn


def test_the_freshness_check_shows_its_status(webserver, artifacts, tmp_path):
    page = render(f"{webserver}/assets/hf_datasets?view=checks", artifacts, "hf_datasets_checks", tmp_path)
    assert "freshness_check" in page
    # The backfilled days are old: yesterday's partition is missing, so the check fails (a warning).
    query = (
        '{ assetNodeOrError(assetKey: {path: ["hf_datasets"]}) { ... on AssetNode { assetChecksOrError { '
        "... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } } }"
    )
    checks = graphql(webserver, query)["data"]["assetNodeOrError"]["assetChecksOrError"]["checks"]
    status = {c["name"]: (c["executionForLatestMaterialization"] or {}).get("status") for c in checks}
    assert status["freshness_check"] == "FAILED" and status["unique_external_ids"] == "SUCCEEDED"
