"""Check many URLs at once: a bounded thread pool, a per-host concurrency limit and pacing."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from dataset_catalog.maintenance.http_probe import ProbeResult, ProbeSettings, probe_url


class HostGate:
    """At most `limit` requests in flight per host, and starts at least `interval` apart.

    Pacing reserves start times under one lock, so requests to a host are spread evenly
    however many workers are waiting for it.
    """

    def __init__(self, limit: int, interval_seconds: float):
        if limit < 1:
            raise ValueError("per-host limit must be >= 1")
        self.limit = limit
        self.interval = max(0.0, interval_seconds)
        self._cond = threading.Condition()
        self._in_flight: dict[str, int] = defaultdict(int)
        self._next_start: dict[str, float] = defaultdict(float)
        self.max_in_flight: dict[str, int] = defaultdict(int)  # observed, for reports and tests

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._cond:
            while self._in_flight[host] >= self.limit:
                self._cond.wait()
            self._in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight[host], self._in_flight[host])
            start = max(time.monotonic(), self._next_start[host])
            self._next_start[host] = start + self.interval
        try:
            delay = start - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield
        finally:
            with self._cond:
                self._in_flight[host] -= 1
                self._cond.notify_all()


@dataclass(frozen=True)
class LinkTarget:
    dataset_id: int
    url: str | None


@dataclass(frozen=True)
class LinkCheck:
    target: LinkTarget
    result: ProbeResult
    checked_at: datetime
    elapsed_seconds: float


def host_of(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def interleave_by_host(targets: Sequence[LinkTarget]) -> list[LinkTarget]:
    """Round-robin over hosts, so workers waiting on one busy host don't starve the others."""
    queues: dict[str, deque[LinkTarget]] = {}
    for target in targets:
        queues.setdefault(host_of(target.url), deque()).append(target)
    ordered: list[LinkTarget] = []
    while queues:
        for host in list(queues):
            ordered.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return ordered


def check_links(
    targets: Sequence[LinkTarget],
    settings: ProbeSettings,
    *,
    concurrency: int = 16,
    gate: HostGate,
) -> list[LinkCheck]:
    """Probe every target; the result list is in input order."""

    def one(target: LinkTarget) -> LinkCheck:
        started = time.monotonic()
        result = probe_url(target.url, settings, gate.slot)
        return LinkCheck(target, result, datetime.now(UTC), time.monotonic() - started)

    if not targets:
        return []
    by_id = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="link-check") as pool:
        for check in pool.map(one, interleave_by_host(targets)):
            by_id[id(check.target)] = check
    return [by_id[id(t)] for t in targets]
