import socket
import time

import pytest

from dataset_catalog.catalog.schema import LinkStatus
from dataset_catalog.maintenance.address_guard import AddressPolicy, parse_allow_list
from dataset_catalog.maintenance.http_probe import ProbeSettings, probe_url
from dataset_catalog_tests.fakes.http import Trickle
from dataset_catalog_tests.fakes.link_server import LinkHosts

LOOPBACK = AddressPolicy(parse_allow_list(["127.0.0.0/8"]))


@pytest.fixture(scope="module")
def hosts():
    with LinkHosts(("127.0.0.1", "127.0.0.2")) as servers:
        yield servers


def settings(policy=LOOPBACK, timeout=2.0):
    return ProbeSettings(policy, timeout_seconds=timeout, max_redirects=5)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("ok/a", LinkStatus.OK, 200),
        ("gone/a", LinkStatus.BROKEN, 404),
        ("removed/a", LinkStatus.BROKEN, 410),
        ("error/a", LinkStatus.TRANSIENT, 500),
        ("ratelimit/a", LinkStatus.TRANSIENT, 429),
        ("forbidden/a", LinkStatus.HTTP_ERROR, 403),
        ("redirect/5/a", LinkStatus.OK, 200),
    ],
)
def test_http_answers_are_classified(hosts, path, status, code):
    result = probe_url(hosts.url(0, path), settings())
    assert (result.status, result.http_status) == (status, code)


def test_head_refused_falls_back_to_a_short_get(hosts):
    url = hosts.url(0, "nohead/x")
    result = probe_url(url, settings())
    assert (result.status, result.http_status) == (LinkStatus.OK, 200)
    methods = [r.method for r in hosts.hosts[0].requests if r.path == "/nohead/x"]
    assert methods == ["HEAD", "GET"]
    forbidden = [r.method for r in hosts.hosts[0].requests if r.path == "/forbidden/a"]
    assert forbidden == ["HEAD", "GET"]


def test_redirect_limits_and_loops(hosts):
    too_many = probe_url(hosts.url(0, "redirect/6/a"), settings())
    assert too_many.status == LinkStatus.INVALID and "more than 5 redirects" in too_many.error
    assert len([r for r in hosts.hosts[0].requests if r.path.endswith("/a") and r.path.startswith("/redirect/")]) >= 6
    loop = probe_url(hosts.url(0, "loop/z"), settings())
    assert loop.status == LinkStatus.INVALID and loop.error == "redirect loop"


def test_every_redirect_hop_is_checked(hosts):
    # Only 127.0.0.1 is allowed: the hop to 127.0.0.2 is refused before any connection.
    only_one = AddressPolicy(parse_allow_list(["127.0.0.1/32"]))
    before = len(hosts.hosts[1].requests)
    result = probe_url(hosts.redirect_to(0, hosts.url(1, "ok/hidden")), settings(only_one))
    assert result.status == LinkStatus.BLOCKED and result.redirects == 1
    assert len(hosts.hosts[1].requests) == before


def test_loopback_is_refused_without_allow_list(hosts):
    before = len(hosts.hosts[0].requests)
    result = probe_url(hosts.url(0, "ok/secret"), settings(AddressPolicy()))
    assert result.status == LinkStatus.BLOCKED
    assert len(hosts.hosts[0].requests) == before


def test_connects_to_the_checked_ip_without_resolving_again(hosts, monkeypatch):
    port = hosts.hosts[0].server.server_address[1]

    class PinnedPolicy(AddressPolicy):
        calls = 0

        def resolve(self, host, port):
            PinnedPolicy.calls += 1
            assert host == "datasets.example"
            return LOOPBACK.resolve("127.0.0.1", port)

    def no_dns(*args, **kwargs):
        raise AssertionError("re-resolved a host name outside the policy")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    result = probe_url(f"http://datasets.example:{port}/ok/pinned", settings(PinnedPolicy()))
    assert result.status == LinkStatus.OK and PinnedPolicy.calls == 1
    request = [r for r in hosts.hosts[0].requests if r.path == "/ok/pinned"][0]
    assert request.headers["host"] == f"datasets.example:{port}"


def test_timeouts_refusals_and_bad_urls(hosts):
    slow = probe_url(hosts.url(0, "stall/1"), settings(timeout=0.3))
    assert slow.status == LinkStatus.TRANSIENT and slow.error == "timed out"
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        free_port = s.getsockname()[1]
    refused = probe_url(f"http://127.0.0.1:{free_port}/x", settings())
    assert refused.status == LinkStatus.TRANSIENT and "Refused" in refused.error
    assert probe_url("ftp://example.com/x", settings()).status == LinkStatus.INVALID
    assert probe_url(None, settings()).status == LinkStatus.INVALID
    assert probe_url("http:///nohost", settings()).status == LinkStatus.INVALID


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickling_server_is_given_up_after_timeout_seconds(hosts, phase):
    """A byte every 50 ms: each read returns in time, the answer never does. Before the
    whole-request deadline this probe ran as long as the trickle (over 60 s at timeout 2 s)."""
    hosts.hosts[0].trickle = Trickle(phase, interval=0.05, applies=lambda request: request.path.startswith("/trickle"))
    started = time.monotonic()
    result = probe_url(hosts.url(0, "trickle/a"), settings(timeout=0.5))
    assert (result.status, result.error) == (LinkStatus.TRANSIENT, "timed out")
    assert time.monotonic() - started < 2.0  # the trickled HEAD, or the GET after a quick 405, given up at 0.5 s
