"""Headless Chromium for the browser tests: Debian's `chromium` (Playwright's own download does
not work here; its driver runs the system browser)."""

import shutil

import pytest

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
