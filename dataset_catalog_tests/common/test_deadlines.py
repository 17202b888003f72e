"""Whole-call deadlines against a loopback server that trickles a byte at a time, never long
enough apart for a read timeout."""

import http.client
import threading
import time
from urllib.parse import urlsplit

import pytest

from dataset_catalog.common.deadlines import (
    Deadline,
    DeadlineExceeded,
    call_with_deadline,
    current_deadline,
    guarded_chunks,
    shut_down,
)
from dataset_catalog.errors import SourceUnavailableError
from dataset_catalog_tests.fakes.http import FakeServer, Trickle


class OneAnswer(FakeServer):
    def handle(self, request):
        return 200, {"Content-Type": "text/plain"}, b"x" * 200


@pytest.fixture
def server():
    with OneAnswer() as fake:
        yield fake


def fetch(url: str, deadline: Deadline) -> bytes:
    """A plain HTTP GET whose socket the deadline may shut down; 5 s per read, as a client would."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.connect()
    deadline.on_abort(lambda: shut_down(conn.sock))
    try:
        conn.request("GET", "/")
        return conn.getresponse().read()
    finally:
        conn.close()


def _workers_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("deadline: ")]


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_trickle_is_given_up_at_the_deadline_and_the_call_stops(server, phase):
    server.trickle = Trickle(phase, interval=0.05)  # 200 bytes of body: ~10 s, each read within 0.05 s
    started = time.monotonic()
    with pytest.raises(
        DeadlineExceeded, match=r"GET / did not finish within 1(\.\d)? s: the server stalls or sends too slowly"
    ):
        call_with_deadline(lambda d: fetch(server.url, d), Deadline(1.0, "GET /"))
    assert 1.0 <= time.monotonic() - started < 2.0
    assert isinstance(DeadlineExceeded("x"), SourceUnavailableError)  # callers treat it as an outage
    for _ in range(50):  # the shut-down socket ends the worker's read at once
        if not _workers_alive():
            break
        time.sleep(0.02)
    assert _workers_alive() == []


def test_a_prompt_call_returns_its_value_or_its_error(server):
    assert call_with_deadline(lambda d: fetch(server.url, d), Deadline(5, "GET /")) == b"x" * 200
    seen = []
    call_with_deadline(lambda d: seen.append(current_deadline() is d), Deadline(5, "x"))
    assert seen == [True] and current_deadline() is None  # set in the call only

    def broken(_):
        raise ValueError("bad body")

    with pytest.raises(ValueError, match="bad body"):
        call_with_deadline(broken, Deadline(5, "x"))


def test_progress_extends_the_deadline_but_a_trickle_or_a_stall_ends_the_call():
    def chunks(interval: float, count: int, size: int):
        sent = iter(range(count))

        def read() -> bytes:
            if next(sent, None) is None:
                return b""
            time.sleep(interval)
            return b"x" * size

        return read

    def download(read, **limits):
        return lambda deadline: sum(map(len, guarded_chunks(read, deadline, **limits)))

    steady = dict(stall_seconds=0.5, min_bytes_per_second=1000, grace_seconds=0.3)
    # 1.2 s of 100 kB/s: longer than the first deadline, kept alive by each chunk.
    assert call_with_deadline(download(chunks(0.1, 12, 10_000), **steady), Deadline(0.5, "a file")) == 120_000
    with pytest.raises(DeadlineExceeded, match=r"a file came at 0\.\d KiB/s .* below the minimum of 0\.9765\d* KiB/s"):
        call_with_deadline(download(chunks(0.1, 100, 10), **steady), Deadline(0.5, "a file"))  # 100 B/s
    with pytest.raises(DeadlineExceeded, match="a file did not finish within"):
        call_with_deadline(download(chunks(2.0, 2, 10_000), **steady), Deadline(0.5, "a file"))  # a 2 s silence


def test_abort_hooks_run_once_and_late_ones_at_once():
    deadline, ran = Deadline(5, "x"), []
    deadline.on_abort(lambda: ran.append("first"))
    deadline.on_abort(lambda: 1 / 0)  # a failing hook never hides the others
    deadline.cancel()
    deadline.cancel()
    deadline.on_abort(lambda: ran.append("late"))
    assert ran == ["first", "late"]
    with pytest.raises(DeadlineExceeded):
        deadline.check()
    with pytest.raises(ValueError):
        Deadline(0, "x")
