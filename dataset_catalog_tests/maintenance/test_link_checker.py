import time

from dataset_catalog.maintenance.address_guard import AddressPolicy, parse_allow_list
from dataset_catalog.maintenance.http_probe import ProbeSettings
from dataset_catalog.maintenance.link_checker import HostGate, LinkTarget, check_links, interleave_by_host
from dataset_catalog_tests.fakes.link_server import LinkHosts

SETTINGS = ProbeSettings(AddressPolicy(parse_allow_list(["127.0.0.0/8"])), timeout_seconds=2)


def test_per_host_limit_holds_at_the_server_while_hosts_run_in_parallel():
    with LinkHosts(("127.0.0.1", "127.0.0.2")) as hosts:
        targets = [LinkTarget(i, hosts.url(i % 2, f"slow/100/{i}")) for i in range(16)]
        started = time.monotonic()
        checks = check_links(targets, SETTINGS, concurrency=16, gate=HostGate(limit=3, interval_seconds=0))
        elapsed = time.monotonic() - started
        assert [c.target for c in checks] == targets
        assert all(c.result.status == "ok" for c in checks)
        assert max(hosts.in_flight.max.values()) == 3  # reached, never exceeded
        # 8 slow requests per host, 3 at a time: >= 3 waves of 0.1 s, hosts overlapping.
        assert 0.28 < elapsed < 1.5


def test_pacing_spaces_request_starts_per_host():
    with LinkHosts(("127.0.0.1",)) as hosts:
        targets = [LinkTarget(i, hosts.url(0, f"ok/{i}")) for i in range(6)]
        check_links(targets, SETTINGS, concurrency=6, gate=HostGate(limit=6, interval_seconds=0.05))
        times = sorted(r.at for r in hosts.requests)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        # Starts are spaced 50 ms apart; the fake sees them arrive a few ms late or early on a busy
        # machine, so each gap is held to most of the interval and their sum to nearly all of it
        # (unpaced, six concurrent requests arrive within a few ms of each other).
        assert min(gaps) >= 0.035 and times[-1] - times[0] >= 5 * 0.05 - 0.01, gaps


def test_interleave_round_robins_hosts():
    targets = [
        LinkTarget(1, "http://a/1"),
        LinkTarget(2, "http://a/2"),
        LinkTarget(3, "http://b/1"),
        LinkTarget(4, None),
    ]
    assert [t.dataset_id for t in interleave_by_host(targets)] == [1, 3, 4, 2]
