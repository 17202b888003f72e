"""The Dagster UI in a real headless Chromium: every asset and schedule is shown, screenshots saved.

Needs Debian's `chromium` (apt-get install -y chromium). Screenshots and DOM dumps go to
$DATASET_CATALOG_UI_ARTIFACTS, else <repo>/artifacts/ui/ (gitignored); the path is printed.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dataset_catalog.definitions import defs

pytestmark = pytest.mark.slow  # a browser and a webserver subprocess

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1000",
]
LOCATION = "dataset_catalog"


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed, so the UI cannot be tested in a browser. "
        "Install it with: apt-get update && apt-get install -y chromium",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    # No community pop-up (shown on localhost) over the pages we screenshot.
    (home / "dagster.yaml").write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
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
                data = graphql(base, "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
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
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
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
        graph = render(f"{webserver}/locations/{LOCATION}/asset-groups/{group}", artifacts, f"asset_graph_{group}", tmp_path)
        assert not missing(names, graph), f"asset graph of group {group} lacks {missing(names, graph)}"

    automation = render(f"{webserver}/automation", artifacts, "automation", tmp_path)
    assert not missing(schedules, automation), f"automation page lacks schedules {missing(schedules, automation)}"
