"""Fake dataset-page hosts for the link checker, on several loopback addresses.

Paths choose the answer: /ok/*, /gone/* (404), /removed/* (410), /error/* (500), /ratelimit/* (429),
/forbidden/* (403 to HEAD and GET), /nohead/* (405 to HEAD, 200 to GET with a large body),
/slow/<ms>/* (200 after a delay), /stall/* (no answer for 30 s), /redirect/<n>/* (n hops, then 200),
/loop/* (redirects to itself), /to?url=<absolute url> (one redirect there), /trickle/* (405 to HEAD,
200 to GET: for a Trickle to send slowly).
Each host records how many requests it had in flight at most, measured around the handler; a
stalled request stops counting the moment its client hangs up (as it does on its timeout).
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import quote

from dataset_catalog_tests.fakes.http import FakeServer, RecordedRequest

BIG_BODY = b"x" * (1 << 20)


class InFlight:
    def __init__(self):
        self._lock = threading.Lock()
        self.current: dict[str, int] = defaultdict(int)
        self.max: dict[str, int] = defaultdict(int)
        self.total: dict[str, int] = defaultdict(int)

    def enter(self, host: str) -> None:
        with self._lock:
            self.current[host] += 1
            self.total[host] += 1
            self.max[host] = max(self.max[host], self.current[host])

    def leave(self, host: str) -> None:
        with self._lock:
            self.current[host] -= 1


class LinkHost(FakeServer):
    def __init__(self, host: str, in_flight: InFlight):
        super().__init__(host)
        self.host = host
        self.in_flight = in_flight
        self._local = threading.local()
        serve_connection = self.server.finish_request

        def finish_request(request, client_address):
            self._local.sock = request  # the handler thread's client socket, to see a hang-up
            serve_connection(request, client_address)

        self.server.finish_request = finish_request
        default_handle_error = self.server.handle_error

        def handle_error(request, client_address):
            # A client that read 4 KiB of a large body, or timed out, hangs up: expected, not news.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                default_handle_error(request, client_address)

        self.server.handle_error = handle_error

    def _wait_unless_client_leaves(self, seconds: float) -> bool:
        """Sleep up to `seconds`; False as soon as the client has closed the connection."""
        sock: socket.socket = self._local.sock
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            readable, _, _ = select.select([sock], [], [], min(remaining, 0.2))
            if readable:
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        return False  # EOF: the client gave up
                except OSError:
                    return False
                time.sleep(min(remaining, 0.01))  # unexpected extra bytes: keep waiting
        return False

    def handle(self, request: RecordedRequest):
        self.in_flight.enter(self.host)
        try:
            return self._answer(request)
        finally:
            self.in_flight.leave(self.host)

    def _answer(self, request: RecordedRequest):
        parts = request.path.strip("/").split("/")
        kind = parts[0]
        if kind == "ok":
            return 200, {"Content-Type": "text/html"}, b"<html>ok</html>"
        if kind == "gone":
            return 404, {}, b"not found"
        if kind == "removed":
            return 410, {}, b"gone"
        if kind == "error":
            return 500, {}, b"boom"
        if kind == "ratelimit":
            return 429, {"Retry-After": "60"}, b"slow down"
        if kind == "forbidden":
            return 403, {}, b"no"
        if kind == "trickle":  # a page for a Trickle (FakeServer.trickle) to send slowly; HEAD refused
            if request.method == "HEAD":
                return 405, {"Allow": "GET"}, b""
            return 200, {"Content-Type": "text/html"}, b"<html>" + b"x" * 200 + b"</html>"
        if kind == "nohead":
            if request.method == "HEAD":
                return 405, {"Allow": "GET"}, b""
            return 200, {"Content-Type": "text/html"}, BIG_BODY
        if kind == "slow":
            self._wait_unless_client_leaves(int(parts[1]) / 1000)
            return 200, {}, b"finally"
        if kind == "stall":
            self._wait_unless_client_leaves(30)
            return 200, {}, b"too late"
        if kind == "redirect":
            hops = int(parts[1])
            rest = "/".join(parts[2:])
            if hops <= 0:
                return 200, {}, b"arrived"
            return 302, {"Location": f"/redirect/{hops - 1}/{rest}"}, b""
        if kind == "loop":
            return 301, {"Location": request.path}, b""
        if kind == "to":
            return 302, {"Location": request.query["url"][0]}, b""
        return 404, {}, b"unknown path"


class LinkHosts:
    """One LinkHost per address; `url(i, path)` is a URL on host i."""

    def __init__(self, addresses=("127.0.0.1",)):
        self.in_flight = InFlight()
        self.hosts = [LinkHost(a, self.in_flight) for a in addresses]

    def url(self, index: int, path: str) -> str:
        return f"{self.hosts[index].url}/{path.lstrip('/')}"

    def redirect_to(self, index: int, target: str) -> str:
        return self.url(index, f"to?url={quote(target, safe='')}")

    @property
    def requests(self):
        return [r for h in self.hosts for r in h.requests]

    def __enter__(self):
        for host in self.hosts:
            host.start()
        return self

    def __exit__(self, *exc):
        for host in self.hosts:
            host.stop()
