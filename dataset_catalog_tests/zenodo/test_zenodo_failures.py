"""Rate limits, retries, stalls, dead resumption tokens and secrets, measured at the fake."""

from datetime import UTC, datetime

import pytest

from dataset_catalog_tests.fakes.zenodo_oai import day_records
from dataset_catalog_tests.zenodo.conftest import failure_message, materialize_zenodo, run_log_text, run_metadata

DAY = datetime(2025, 3, 10, tzinfo=UTC)
PARTITION = "2025-03-10"


def _max_in_window(times: list[float], window: float) -> int:
    """The most requests that arrived within any `window` seconds."""
    most, first = 0, 0
    for last in range(len(times)):
        while times[last] - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.slow
def test_paced_run_stays_under_the_limit_and_never_sees_429(database_url, store, fake_zenodo):
    """The fake allows 20 requests in any 2 seconds (Zenodo: 30 a minute; scaled so the test is
    short); the client is set to the same pace and must never exceed it nor get a single 429."""
    fake_zenodo.set_records(day_records(DAY, 1500))  # 30 pages
    fake_zenodo.rate_limit = (20, 2.0)
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION, requests_per_minute=600)
    assert result.success
    assert store.count_datasets("zenodo") == 1500
    times = [r.at for r in fake_zenodo.oai_requests]
    assert len(times) == 30 and fake_zenodo.rejected_429 == 0
    assert _max_in_window(times, 2.0) <= 20
    # 600/min = one every 0.1 s on average (single gaps vary with delivery on a loaded machine).
    assert (times[-1] - times[0]) / (len(times) - 1) >= 0.1
    meta = run_metadata(result)
    assert (meta["rate_limited_429"], meta["http_requests"]) == (0, 30)


@pytest.mark.slow
def test_x_ratelimit_headers_hold_an_unpaced_client(database_url, store, fake_zenodo):
    """Unpaced, the client still obeys X-RateLimit-Remaining/Reset: no 429 from a fake allowing 5 a second."""
    fake_zenodo.set_records(day_records(DAY, 600))  # 12 pages
    fake_zenodo.rate_limit = (5, 1.0)
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION)
    assert result.success
    assert store.count_datasets("zenodo") == 600
    assert fake_zenodo.rejected_429 == 0
    assert _max_in_window([r.at for r in fake_zenodo.oai_requests], 1.0) <= 5
    assert run_metadata(result)["rate_limit_waits"] >= 2


def test_429_retry_after_is_waited_out(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 120))
    fake_zenodo.fail_next(429, headers={"Retry-After": "1"})
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION)
    assert result.success
    assert store.count_datasets("zenodo") == 120
    first, second = fake_zenodo.oai_requests[:2]
    assert second.at - first.at >= 0.95
    assert first.query == second.query  # the same request again, not a skipped page
    meta = run_metadata(result)
    assert (meta["rate_limited_429"], meta["http_requests"], meta["waited_seconds"] >= 0.9) == (1, 4, True)


def test_5xx_is_retried(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 120))
    fake_zenodo.fail_next(503, times=2)
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION)
    assert result.success and store.count_datasets("zenodo") == 120
    assert run_metadata(result)["http_retries"] == 2


def test_lasting_5xx_fails_the_run_cleanly_keeps_batches_and_a_rerun_completes(database_url, store, fake_zenodo):
    records = day_records(DAY, 150)
    fake_zenodo.set_records(records)
    fake_zenodo.fail_from = (3, 502)  # pages 1 and 2 answer, then Zenodo is down
    result = materialize_zenodo(
        database_url, fake_zenodo, partition=PARTITION, config={"batch_size": 50}, max_retries=2
    )
    assert not result.success
    message = failure_message(result)
    assert "ZenodoUnavailableError" in message or "failed after 3 tries" in message
    assert "HTTP 502" in message and "re-run" in message
    assert len(fake_zenodo.oai_requests) == 5  # 2 pages + 3 tries of the third
    assert store.count_datasets("zenodo") == 100  # the two pages' batches were committed
    fake_zenodo.fail_from = None
    assert materialize_zenodo(database_url, fake_zenodo, partition=PARTITION).success
    assert {r["external_id"] for r in store.fetch_datasets("zenodo")} == {str(r.recid) for r in records}


def test_a_stalled_answer_times_out_and_is_retried(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 120))
    fake_zenodo.stall(4.0, on_request=2)
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION, request_timeout_seconds=1.0)
    assert result.success and store.count_datasets("zenodo") == 120
    assert run_metadata(result)["http_retries"] == 1


def test_a_server_that_always_stalls_fails_the_run_with_advice(database_url, store, fake_zenodo):
    fake_zenodo.set_records(day_records(DAY, 10))
    fake_zenodo.stall(3.0, on_request=None)
    result = materialize_zenodo(
        database_url, fake_zenodo, partition=PARTITION, request_timeout_seconds=0.5, max_retries=1
    )
    assert not result.success
    message = failure_message(result)
    assert "no complete answer within 0.5 s" in message and "request_timeout_seconds" in message


@pytest.mark.parametrize("dead", ["refused", "announced"])
def test_a_dead_resumption_token_restarts_the_list_without_losing_or_repeating_records(
    database_url, store, fake_zenodo, dead
):
    """Refused: the server answers badResumptionToken (HTTP 422) to a token it announced valid.
    Announced: its expirationDate is already past, so the client must not even send it."""
    records = day_records(DAY, 160)
    fake_zenodo.set_records(records)
    if dead == "refused":
        fake_zenodo.forget_tokens = 1
    else:
        fake_zenodo.issue_dead_tokens = 1
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION, config={"batch_size": 30})
    assert result.success
    assert fake_zenodo.answered_bad_token == (1 if dead == "refused" else 0)
    rows = store.fetch_datasets("zenodo")
    assert sorted(int(r["external_id"]) for r in rows) == sorted(r.recid for r in records)
    meta = run_metadata(result)
    assert (meta["token_restarts"], meta["total_inserted"], meta["records_scanned"]) == (1, 160, 160)


def test_tokens_that_keep_dying_fail_the_run_naming_the_resources_own_pace(database_url, store, fake_zenodo):
    """Past max_token_restarts the fix is this resource's requests_per_minute (its value named), not
    "whatever else shares this account"."""
    fake_zenodo.set_records(day_records(DAY, 160))
    fake_zenodo.forget_tokens = 100  # every token is refused
    result = materialize_zenodo(
        database_url, fake_zenodo, partition=PARTITION, max_token_restarts=1, requests_per_minute=6000
    )
    assert not result.success
    message = failure_message(result)
    assert "the resumption token expired 2 times in one walk" in message
    assert "Lower the zenodo resource's requests_per_minute (now 6000; Zenodo allows 30)" in message
    assert "whatever else shares" not in message
    assert fake_zenodo.answered_bad_token == 2  # one refusal per walk: the first and the restarted one


def test_a_token_that_would_die_during_a_retry_after_is_never_sent(database_url, store, fake_zenodo):
    records = day_records(DAY, 120)
    fake_zenodo.set_records(records)
    fake_zenodo.token_lifetime_seconds = 2.0
    original = fake_zenodo.handle

    def handle(request):  # 429 with Retry-After 3 on the first request that carries a token
        if "resumptionToken" in request.query and not getattr(handle, "done", False):
            handle.done = True
            return 429, {"Retry-After": "3", "Content-Type": "text/html"}, b"<html>Too Many Requests</html>"
        return original(request)

    fake_zenodo.handle = handle
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION)
    assert result.success
    assert fake_zenodo.answered_bad_token == 0  # the dead token was never sent
    tokens_sent = [r.query["resumptionToken"][0] for r in fake_zenodo.oai_requests if "resumptionToken" in r.query]
    assert len(tokens_sent) == len(set(tokens_sent))  # no token sent twice
    assert sorted(int(r["external_id"]) for r in store.fetch_datasets("zenodo")) == sorted(r.recid for r in records)
    requests = fake_zenodo.oai_requests
    restart = next(i for i, r in enumerate(requests) if i > 0 and "from" in r.query)
    assert requests[restart].at - requests[restart - 1].at >= 2.9  # Retry-After obeyed by the restart too
    assert run_metadata(result)["token_restarts"] == 1


SECRET = "zen-SECRET-token-8f3a9c"


def test_token_is_sent_but_never_logged_or_recorded(database_url, store, fake_zenodo, dagster_instance, monkeypatch):
    fake_zenodo.required_token = SECRET
    fake_zenodo.set_records(day_records(DAY, 60))
    fake_zenodo.fail_next(503)
    monkeypatch.setenv("ZENODO_TOKEN", SECRET)
    result = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION, instance=dagster_instance)
    assert result.success and store.count_datasets("zenodo") == 60
    assert all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in fake_zenodo.oai_requests)
    assert SECRET not in run_log_text(dagster_instance, result.run_id)
    assert SECRET not in str(run_metadata(result))
    # Rejected and failing runs: the error names the variable, never the value.
    fake_zenodo.required_token = "another-token-value"
    rejected = materialize_zenodo(database_url, fake_zenodo, partition=PARTITION, instance=dagster_instance)
    assert not rejected.success
    assert "ZENODO_TOKEN" in failure_message(rejected) and SECRET not in failure_message(rejected)
    fake_zenodo.fail_from = (1, 500)
    failed = materialize_zenodo(
        database_url, fake_zenodo, partition=PARTITION, instance=dagster_instance, max_retries=1
    )
    assert not failed.success
    for run in (rejected, failed):
        assert SECRET not in run_log_text(dagster_instance, run.run_id)
        assert SECRET not in failure_message(run)
