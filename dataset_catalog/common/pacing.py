"""A request pacer shared by every thread and process that talks to one endpoint of a source.

Sources throttle per account or address (Kaggle, Zenodo, OpenML), so the pace must hold for the
whole machine, not per client object: two assets in one process, two runs in two processes (the
source's Dagster pool is the first line of defence; this is the second). Each slot is taken under an exclusive `flock`
on a small file holding the wall-clock time of the last request, so threads and processes
queue on the same clock. The lock is held while sleeping: that is what serialises callers.

`PacedAdapter` is the one requests adapter of our HTTP clients (common/http.py mounts it; so does
kaggle/api.py in the kaggle library's session): its connections take their slots.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dataset_catalog import settings
from dataset_catalog.common.deadlines import current_deadline, shut_down

# Slots are spaced this much wider than 1/requests_per_second: delivery jitter of a few ms must
# not bring two requests closer than the limit at Kaggle's end (the achieved rate stays within
# 1 % of the limit).
PACE_MARGIN = 0.01


class Pacer:
    """At most `requests_per_second` slots per second, across threads and processes."""

    def __init__(self, requests_per_second: float, lock_path: Path):
        if requests_per_second <= 0:
            raise ValueError("requests_per_second must be > 0")
        self.interval = (1.0 + PACE_MARGIN) / requests_per_second
        self.lock_path = lock_path
        self._thread_lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next slot is free and take it; returns the seconds waited."""
        with self._thread_lock:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                raw = os.pread(fd, 8, 0)
                last = struct.unpack("d", raw)[0] if len(raw) == 8 else 0.0
                # Capped at one interval: a wall clock stepped backwards must not stall callers.
                delay = min(self.interval, last + self.interval - time.time())
                if delay > 0:
                    time.sleep(delay)
                os.pwrite(fd, struct.pack("d", time.time()), 0)
                return max(delay, 0.0)
            finally:
                os.close(fd)  # closing releases the flock


def pacer_for(source: str, endpoint: str, requests_per_second: float) -> Pacer:
    """A pacer of one (source, endpoint, pace). Every pacer of the same triple shares one lock
    file, so all of them, in this process or another, take their slots from the same clock (a
    `flock` conflicts between two opens of one file even within a process)."""
    endpoint = endpoint.rstrip("/")
    digest = hashlib.sha256(f"{endpoint}|{float(requests_per_second)!r}".encode()).hexdigest()[:16]
    return Pacer(requests_per_second, settings.cache_dir() / source / f"pacing-{digest}.lock")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks for (a number, or an HTTP date); None if unusable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


class _PacedConnection:
    """Mixed into urllib3's connections: connects first, registers the socket with the call's
    Deadline, then takes the pacer's slot (the time queued for it is added to the deadline)."""

    pacer: Pacer | None

    def request(self, *args: Any, **kwargs: Any):
        if self.sock is None:  # HTTPS pools have connected already; a fresh HTTP connection not yet
            self.connect()
        deadline, sock = current_deadline(), self.sock
        if deadline is not None:
            deadline.on_abort(lambda: shut_down(sock))
        if self.pacer is not None:
            queued = self.pacer.wait()
            if deadline is not None and queued:
                deadline.postpone(queued)
        return super().request(*args, **kwargs)


class PacedAdapter(HTTPAdapter):
    """The one adapter of our clients: paced, deadline-aware connections (see _PacedConnection),
    a default (connect, read) timeout, and `on_answer(headers)` told of every answer."""

    def __init__(
        self,
        pacer: Pacer | None,
        timeout: tuple[float, float],
        on_answer: Callable[[Mapping[str, str]], None] | None = None,
    ):
        self.pacer, self.timeout, self.on_answer = pacer, timeout, on_answer
        super().__init__(max_retries=0)  # retries are the session's policy, each one paced

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type("PacedHTTPConnection", (_PacedConnection, HTTPConnection), {"pacer": self.pacer})
        https = type("PacedHTTPSConnection", (_PacedConnection, HTTPSConnection), {"pacer": self.pacer})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PacedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("PacedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        response = super().send(
            request, stream=stream, timeout=timeout or self.timeout, verify=verify, cert=cert, proxies=proxies
        )
        if self.on_answer is not None:
            self.on_answer(response.headers)
        return response
