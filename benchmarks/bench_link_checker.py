"""Benchmark the broken-link janitor end to end against local fake hosts.

1000 catalog rows on 8 loopback "hosts" (127.0.0.1-8, each its own server) plus a dead one;
20 % of links are slow or dead: 6 % answer after 0.4 s, 4 % stall past the 1 s timeout,
5 % are 404 and 5 % point at a closed port. The per-host limit is checked at the servers.

Run: PYTHONPATH=. python benchmarks/bench_link_checker.py [--urls 1000] [--per-host-limit 4]
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.link_state import LinkThresholds
from dataset_catalog.maintenance.address_guard import AddressPolicy, parse_allow_list
from dataset_catalog.maintenance.http_probe import ProbeSettings
from dataset_catalog.maintenance.janitor import JanitorSettings, run_link_janitor
from dataset_catalog_tests.fakes.link_server import LinkHosts

HOSTS = tuple(f"127.0.0.{i}" for i in range(1, 9))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.9", 0))
        return s.getsockname()[1]


def path_for(i: int) -> str:
    bucket = i % 100
    if bucket < 6:
        return f"slow/400/{i}"
    if bucket < 10:
        return f"stall/{i}"
    if bucket < 15:
        return f"gone/{i}"
    if bucket < 20:
        return "DEAD"
    if bucket < 25:
        return f"nohead/{i}"
    if bucket < 30:
        return f"redirect/2/{i}"
    return f"ok/{i}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=1000)
    parser.add_argument("--per-host-limit", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--interval", type=float, default=0.01, help="per-host pacing, seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, LinkHosts(HOSTS) as hosts:
        store = CatalogStore(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        dead = f"http://127.0.0.9:{closed_port()}"
        rows = []
        for i in range(args.urls):
            path = path_for(i)
            url = f"{dead}/{i}" if path == "DEAD" else hosts.url(i % len(HOSTS), path)
            rows.append({"source": "huggingface", "external_id": f"bench/{i}", "title": f"b{i}", "url": url})
        store.upsert_datasets(rows)
        settings = JanitorSettings(
            probe=ProbeSettings(AddressPolicy(parse_allow_list(["127.0.0.0/8"])), timeout_seconds=1.0),
            thresholds=LinkThresholds(),
            batch_size=args.urls,
            concurrency=args.concurrency,
            per_host_limit=args.per_host_limit,
            per_host_interval_seconds=args.interval,
        )
        started = time.monotonic()
        report = run_link_janitor(store, settings, log=_Quiet())
        elapsed = time.monotonic() - started
        server_max = max(hosts.in_flight.max.values())

    print(f"URLs checked:            {report.checked}")
    print(f"wall time:               {elapsed:.2f} s (select + check + record)")
    print(f"throughput:              {report.checked / elapsed:.1f} URLs/s")
    print(f"by status:               {dict(report.by_status)}")
    print(
        f"per-host limit:          {args.per_host_limit} (pacing {args.interval * 1000:.0f} ms, {args.concurrency} workers)"
    )
    print(
        f"max in flight per host:  {server_max} (measured at the servers), {report.max_in_flight_per_host} (client gate)"
    )
    print("per host (server):       " + ", ".join(f"{h}={n}" for h, n in sorted(hosts.in_flight.max.items())))
    ok = report.checked / elapsed >= 50 and server_max <= args.per_host_limit
    print("RESULT:                  " + ("PASS (>= 50 URLs/s, limit held)" if ok else "FAIL"))
    return 0 if ok else 1


class _Quiet:
    def info(self, *_a, **_k):
        pass


if __name__ == "__main__":
    sys.exit(main())
