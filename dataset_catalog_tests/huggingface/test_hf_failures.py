"""Stalls, persistent server errors and secrecy of the token, over real HTTP."""

import socket
import time
from datetime import UTC, datetime

import pytest

from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.errors import CatalogConfigError, SourceUnavailableError
from dataset_catalog.huggingface.client import open_hub_listing
from dataset_catalog_tests.fakes.hf_hub import day_items
from dataset_catalog_tests.fakes.http import Trickle
from dataset_catalog_tests.huggingface.conftest import materialization_metadata, run_log_text

DAY = datetime(2025, 3, 10, tzinfo=UTC)
TOKEN = "hf_SuperSecretTestToken1234567890"


@pytest.mark.slow
def test_a_single_stalled_request_is_retried_and_the_run_succeeds(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(day_items(DAY, 10))
    fake_hub.stall(30, on_request=1)
    started = time.monotonic()
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", request_timeout_seconds=0.5)
    assert result.success
    assert time.monotonic() - started < 15
    assert store.count_datasets() == 10


@pytest.mark.slow
def test_a_stalled_server_fails_the_listing_with_a_clear_message():
    from dataset_catalog_tests.fakes.hf_hub import FakeHub

    with FakeHub(day_items(DAY, 3)) as hub:
        hub.stall(60, on_request=None)
        listing = HuggingFaceResource(endpoint=hub.url, request_timeout_seconds=0.3).listing()
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError, match=r"did not answer within 0.3 s"):
            list(listing.pages())
        assert time.monotonic() - started < 45  # bounded: the library's retries, never forever


@pytest.mark.slow
def test_persistent_5xx_fails_with_a_clear_message_after_library_retries(fake_hub):
    fake_hub.fail_next(503, times=50)
    listing = HuggingFaceResource(endpoint=fake_hub.url, token=TOKEN).listing()
    with pytest.raises(SourceUnavailableError) as raised:
        list(listing.pages())
    message = str(raised.value)
    assert "HTTP 503" in message and "re-run" in message
    assert TOKEN not in message
    assert len(fake_hub.api_requests) == 6  # huggingface_hub: 1 try + 5 retries


def test_token_is_sent_but_never_logged_stored_or_shown(database_url, store, fake_hub, run_hf, dagster_instance, capfd):
    fake_hub.required_token = TOKEN
    fake_hub.set_items(day_items(DAY, 3))
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", token=TOKEN, instance=dagster_instance)
    assert result.success
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake_hub.api_requests)
    assert TOKEN not in repr(materialization_metadata(result))
    assert TOKEN not in run_log_text(dagster_instance, result.run_id)

    # A rejected token fails the run; the failure message must not echo it either.
    fake_hub.required_token = "hf_other_token_abcdef"
    failed = run_hf(database_url, fake_hub.url, partition="2025-03-10", token=TOKEN, instance=dagster_instance)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].event_specific_data.error
    assert "rejected the request (HTTP 401): check HF_TOKEN" in failure.to_string()
    assert TOKEN not in failure.to_string()
    assert TOKEN not in run_log_text(dagster_instance, failed.run_id)
    out, err = capfd.readouterr()
    assert TOKEN not in out and TOKEN not in err
    rows = store.fetch_datasets()
    assert TOKEN not in repr(rows)


def test_hf_token_env_var_is_used_when_no_token_is_configured(fake_hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    fake_hub.set_items(day_items(DAY, 2))
    list(HuggingFaceResource(endpoint=fake_hub.url).listing().pages())
    assert fake_hub.api_requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_hub_is_given_up_after_give_up_seconds(fake_hub, phase):
    """A byte every 50 ms never trips the 5 s read timeout; before give_up_seconds this listing
    took as long as the trickle (a minute and more)."""
    fake_hub.set_items(day_items(DAY, 3))
    fake_hub.trickle = Trickle(phase, interval=0.05)
    listing = HuggingFaceResource(endpoint=fake_hub.url, request_timeout_seconds=5, give_up_seconds=1.5).listing()
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError, match=r"Page 1 of .* did not finish within 1.5 s.*give_up_seconds"):
        list(listing.pages())
    assert time.monotonic() - started < 3.5


@pytest.mark.slow
def test_a_trickle_mid_walk_fails_the_run_and_keeps_the_pages_written(database_url, store, fake_hub, run_hf):
    fake_hub.set_items(day_items(DAY, 30))
    fake_hub.trickle = Trickle("body", 0.05, applies=lambda request: "cursor" in str(request.query))
    started = time.monotonic()
    result = run_hf(database_url, fake_hub.url, partition="2025-03-10", page_size=10, give_up_seconds=1.5)
    assert not result.success and time.monotonic() - started < 20
    failure = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "Page 2 of" in failure and "did not finish within 1.5 s" in failure
    assert store.count_datasets() == 10  # the first page, committed before the trickle


def test_a_bad_page_size_is_refused_before_any_request(fake_hub):
    with pytest.raises(CatalogConfigError, match="page_size must be a positive number of items, got -3"):
        open_hub_listing(endpoint=fake_hub.url, page_size=-3)
    with pytest.raises(Exception, match="page_size"):
        HuggingFaceResource(endpoint=fake_hub.url, page_size=-3)
    assert fake_hub.api_requests == []


def test_an_in_memory_catalog_fails_the_run_before_any_request(fake_hub, run_hf, monkeypatch):
    """It used to report 5 rows committed, exit 0, and keep none."""
    monkeypatch.setenv("DATASET_CATALOG_DATABASE_URL", "sqlite:///")
    fake_hub.set_items(day_items(DAY, 5))
    result = run_hf(None, fake_hub.url, partition="2025-03-10")
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert "in-memory SQLite database: everything written to it is lost" in failure
    assert fake_hub.api_requests == []


@pytest.mark.slow
def test_an_unreachable_hub_fails_the_run_saying_to_set_hf_endpoint_to_a_mirror(tmp_path, run_hf):
    """A machine without internet access: nothing listens where the Hub should be."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = f"http://127.0.0.1:{closed_port}"
    result = run_hf(f"sqlite:///{tmp_path / 'catalog.sqlite3'}", unreachable, partition="2025-03-10", token=TOKEN)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.to_string()
    assert f"SourceUnavailableError: Could not reach the Hugging Face Hub at {unreachable}/api/datasets" in failure
    assert "set HF_ENDPOINT to a Hub mirror" in failure
    assert TOKEN not in failure
