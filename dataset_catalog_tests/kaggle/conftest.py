"""Fixtures of the Kaggle tests: the fake Kaggle API and a fast resource pointed at it."""

from __future__ import annotations

import os
import tempfile

# Before kaggle is imported: its KaggleApi class creates and reads a config dir at import time.
os.environ.setdefault("KAGGLE_CONFIG_DIR", tempfile.mkdtemp(prefix="kaggle-config-"))

import pytest

from dataset_catalog.kaggle.client import KaggleResource
from dataset_catalog_tests.fakes.kaggle_api import FakeKaggle

KAGGLE_ENV = ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "DATASET_CATALOG_KAGGLE_ENDPOINT",
              "KAGGLE_API_ENVIRONMENT", "VERBOSE")


@pytest.fixture(autouse=True)
def _no_ambient_kaggle_env(monkeypatch):
    """No test sees a developer's Kaggle credentials or endpoint."""
    for name in KAGGLE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_kaggle():
    with FakeKaggle() as fake:
        yield fake


@pytest.fixture
def kaggle_env(monkeypatch, fake_kaggle):
    """Credentials and endpoint in the environment, as production sets them."""
    monkeypatch.setenv("KAGGLE_USERNAME", fake_kaggle.username)
    monkeypatch.setenv("KAGGLE_KEY", fake_kaggle.key)
    monkeypatch.setenv("DATASET_CATALOG_KAGGLE_ENDPOINT", fake_kaggle.url)
    return fake_kaggle


@pytest.fixture
def kaggle_resource(kaggle_env) -> KaggleResource:
    """Fast pace and tiny backoff: only the pacing tests run at a realistic pace."""
    return KaggleResource(requests_per_second=200.0, retry_backoff_seconds=0.01, request_timeout_seconds=5.0)


# Loopback delivery varies by a few ms between two requests on a loaded machine; the pacer itself
# never undershoots, so single gaps get this much slack and the whole span none beyond it.
PACING_JITTER = 0.03


def assert_paced(requests, requests_per_second: float) -> None:
    """The fake saw these requests no faster than `requests_per_second`."""
    interval = 1.0 / requests_per_second
    times = sorted(r.at for r in requests)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps, "need at least two requests to measure a pace"
    assert min(gaps) >= interval - PACING_JITTER, f"gap {min(gaps):.3f}s < interval {interval:.3f}s"
    assert times[-1] - times[0] >= (len(times) - 1) * interval - PACING_JITTER
