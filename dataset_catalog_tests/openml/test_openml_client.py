"""OpenMLClient against the fake OpenML API over 127.0.0.1: paging, errors, retries, pacing, the key."""

from __future__ import annotations

import logging
import time

import pytest

from dataset_catalog.defs.openml.resources import OpenMLResource
from dataset_catalog.errors import CredentialsError
from dataset_catalog.openml.client import (
    DEFAULT_ENDPOINT,
    OpenMLRateLimitError,
    OpenMLResponseError,
    OpenMLUnavailableError,
    resolve_endpoint,
)
from dataset_catalog_tests.fakes.openml_api import make_datasets
from dataset_catalog_tests.kaggle.conftest import PACING_JITTER, assert_paced
from dataset_catalog_tests.openml.conftest import FAST, max_requests_in_any_second

KEY = "omlkey_SuperSecret_0123456789abcdef"


def client_for(fake, **options):
    return OpenMLResource(endpoint=fake.url, **{**FAST, **options}).get_client()


def test_endpoint_override_precedence(monkeypatch, fake_openml):
    assert resolve_endpoint() == DEFAULT_ENDPOINT == "https://www.openml.org/api/v1"
    monkeypatch.setenv("DATASET_CATALOG_OPENML_ENDPOINT", fake_openml.url + "/")
    assert resolve_endpoint() == fake_openml.url
    assert resolve_endpoint("http://field.example/api/v1") == "http://field.example/api/v1"
    fake_openml.add(*make_datasets(2))
    client = OpenMLResource(**FAST).get_client()  # no endpoint field: the env var
    assert [p for p in client.pages()] and fake_openml.list_requests


def test_paging_walks_to_the_412_no_results_page(fake_openml):
    fake_openml.add(*make_datasets(25))
    client = client_for(fake_openml, page_size=10)
    pages = list(client.pages())
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [r.path for r in fake_openml.list_requests] == [
        f"/api/v1/json/data/list/status/all/limit/10/offset/{offset}" for offset in (0, 10, 20, 25)
    ]
    assert fake_openml.answered == [200, 200, 200, 412]  # the empty page past the end: 412, code 372
    assert [d["did"] for p in pages for d in p] == list(range(1, 26))


def test_an_exact_multiple_of_the_page_size_also_ends_at_412(fake_openml):
    fake_openml.add(*make_datasets(20))
    assert [len(p) for p in client_for(fake_openml, page_size=10).pages()] == [10, 10]
    assert fake_openml.answered == [200, 200, 412]


def test_detail_calls_read_the_xml_converted_shapes(fake_openml):
    fake_openml.add(*make_datasets(1, columns=[("only", "numeric")]))
    client = client_for(fake_openml)
    assert client.description(1)["tag"] == "uci"  # one tag: a bare string on the wire
    assert [f["name"] for f in client.features(1)] == ["only"]
    assert {q["name"] for q in client.qualities(1)} >= {"NumberOfInstances", "NumberOfClasses"}
    with pytest.raises(OpenMLResponseError, match=r"HTTP 412 \(code 111\): Unknown dataset") as raised:
        client.description(99)
    assert raised.value.code == "111"
    fake_openml.raw_bodies["data/1"] = b'{"data_set_description": {"id": '
    with pytest.raises(OpenMLResponseError, match="malformed JSON for description of dataset 1"):
        client.description(1)


def test_429_waits_for_retry_after_then_succeeds(fake_openml):
    fake_openml.add(*make_datasets(1))
    fake_openml.fail_next(429, headers={"Retry-After": "1"}, path_part="/data/1")
    client = client_for(fake_openml)
    assert client.description(1)["name"] == "dataset-1"
    first, second = fake_openml.requests
    assert second.at - first.at >= 1.0 - PACING_JITTER  # the fake's Retry-After, honoured
    assert (client.stats.rate_limited, client.stats.retries, client.stats.waited_for_retry_after_seconds) == (1, 1, 1.0)


def test_a_retry_after_beyond_the_limit_fails_at_once_with_advice(fake_openml):
    fake_openml.fail_next(429, headers={"Retry-After": "3600"})
    with pytest.raises(OpenMLRateLimitError, match="wait 3600 s, more than max_retry_after_seconds"):
        client_for(fake_openml, max_retry_after_seconds=60).description(1)
    assert len(fake_openml.requests) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(fake_openml):
    fake_openml.add(*make_datasets(1))
    fake_openml.fail_next(503, times=2)
    client = client_for(fake_openml)
    assert client.features(1)
    assert fake_openml.answered == [503, 503, 200] and client.stats.retries == 2


def test_persistent_5xx_fails_with_our_error_after_bounded_tries(fake_openml):
    fake_openml.fail_next(502, times=50)
    with pytest.raises(OpenMLUnavailableError, match=r"failed after 3 tries \(HTTP 502\). Re-run later"):
        client_for(fake_openml, max_retries=2).description(1)
    assert len(fake_openml.requests) == 3


def test_a_listing_error_other_than_no_results_stops_the_walk(fake_openml):
    fake_openml.fail_next(412, path_part="data/list")  # code 999, not 372
    with pytest.raises(OpenMLUnavailableError, match="listing can't go on"):
        list(client_for(fake_openml).pages())


@pytest.mark.slow
def test_a_stalled_request_times_out_and_is_retried(fake_openml):
    fake_openml.add(*make_datasets(1))
    fake_openml.stall(30, on_request=1)
    client = client_for(fake_openml, request_timeout_seconds=0.5)
    started = time.monotonic()
    assert client.description(1)["name"] == "dataset-1"
    assert time.monotonic() - started < 5 and len(fake_openml.requests) == 2


@pytest.mark.slow
def test_a_server_stalling_every_request_fails_within_the_bound(fake_openml):
    fake_openml.stall(30, on_request=None)
    client = client_for(fake_openml, request_timeout_seconds=0.3, max_retries=2)
    started = time.monotonic()
    with pytest.raises(OpenMLUnavailableError, match=r"3 tries \(timeout"):
        client.description(1)
    assert time.monotonic() - started < 5


def test_the_api_key_is_sent_but_never_shown_in_errors(fake_openml):
    fake_openml.add(*make_datasets(1))
    fake_openml.required_api_key = KEY
    assert client_for(fake_openml, api_key=KEY).description(1)
    assert fake_openml.requests[-1].query["api_key"] == [KEY]
    with pytest.raises(CredentialsError, match="check OPENML_API_KEY") as raised:
        client_for(fake_openml, api_key=KEY + "-wrong").description(1)
    assert KEY not in str(raised.value)
    fake_openml.stall(30, on_request=1)
    with pytest.raises(OpenMLUnavailableError) as raised:
        client_for(fake_openml, api_key=KEY, request_timeout_seconds=0.3, max_retries=0).description(1)
    assert KEY not in str(raised.value)


def test_the_api_key_stays_out_of_debug_logs(fake_openml, caplog):
    """urllib3 logs each request's URL, query string included, at DEBUG."""
    fake_openml.add(*make_datasets(1))
    with caplog.at_level(logging.DEBUG):
        client_for(fake_openml, api_key=KEY).description(1)
    assert "/api/v1/json/data/1?api_key=***" in caplog.text and KEY not in caplog.text


def test_the_env_api_key_is_used_when_none_is_configured(monkeypatch, fake_openml):
    monkeypatch.setenv("OPENML_API_KEY", KEY)
    fake_openml.add(*make_datasets(1))
    client_for(fake_openml).description(1)
    assert fake_openml.requests[-1].query["api_key"] == [KEY]
    assert KEY not in repr(OpenMLResource(endpoint=fake_openml.url))


# -- pacing, measured at the fake ---------------------------------------------------------------
@pytest.mark.parametrize("requests_per_second", [2.0, 10.0])
def test_pacing_holds_at_the_fake_and_no_429_in_a_normal_run(fake_openml, requests_per_second):
    fake_openml.add(*make_datasets(3))
    client = client_for(fake_openml, requests_per_second=requests_per_second, page_size=2)
    for page in client.pages():
        for item in page:
            client.description(item["did"])
    while len(fake_openml.requests) < 2 * requests_per_second + 2:  # over two seconds' worth
        client.features(1)
    assert_paced(fake_openml.requests, requests_per_second)
    assert max_requests_in_any_second(fake_openml.requests) <= requests_per_second
    assert 429 not in fake_openml.answered and client.stats.rate_limited == 0


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_answer_is_given_up_at_the_whole_call_deadline(fake_openml, phase):
    """A byte every 50 ms never trips the per-read timeout; the watchdog ends the call."""
    from dataset_catalog_tests.fakes.http import Trickle

    fake_openml.add(*make_datasets(1))
    fake_openml.trickle = Trickle(phase, interval=0.05)
    client = client_for(fake_openml, request_timeout_seconds=1.0, max_retries=1)
    started = time.monotonic()
    with pytest.raises(OpenMLUnavailableError, match=r"2 tries \(timeout: no complete answer within 1 s\)"):
        client.description(1)
    assert time.monotonic() - started < 4
    fake_openml.trickle = None
    assert client.description(1)["name"] == "dataset-1"  # the client works on after a given-up call
