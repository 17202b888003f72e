"""The service process's bounds over real sockets on 127.0.0.1: a deadline for request headers,
a cap on open connections, a bounded request thread pool, idle memory given back."""

from __future__ import annotations

import re
import socket
import threading
import time

import anyio.to_thread
import pytest
import uvicorn
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info
from uvicorn.protocols.http.h11_impl import H11Protocol

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.service import app as service_app
from dataset_catalog.service.app import create_app
from dataset_catalog.service.server import BoundedHTTPProtocol, HeaderDeadline
from dataset_catalog_tests.defs.dagster_processes import free_port
from dataset_catalog_tests.fakes.corpus import CORPUS

HEADER_TIMEOUT = 1.0


@pytest.fixture
def catalog(tmp_path):
    with CatalogStore(f"sqlite:///{tmp_path / 'catalog.sqlite3'}") as opened:
        opened.upsert_datasets([dict(r) for r in CORPUS])
        yield opened


class BoundedH11Protocol(HeaderDeadline, H11Protocol):
    """The same bounds over uvicorn's other parser (the one it uses without httptools)."""


def serve(store, monkeypatch, max_connections: int = 50, protocol=BoundedHTTPProtocol):
    """The app under uvicorn with the protocol `dataset-catalog serve` uses, in a thread."""
    monkeypatch.setenv("DATASET_CATALOG_SERVICE_HEADER_TIMEOUT", str(HEADER_TIMEOUT))
    port = free_port()
    config = uvicorn.Config(
        create_app(store=store),
        host="127.0.0.1",
        port=port,
        http=protocol,
        limit_concurrency=max_connections,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    return server, thread, port


def stop(server, thread) -> None:
    server.should_exit = True
    thread.join(timeout=10)


def get(port: int, path: str = "/healthz") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        return _read_response(conn)


def _read_response(conn: socket.socket) -> tuple[int, bytes]:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return (int(data.split(b" ", 2)[1]) if data else 0), data


def _read_one_response(conn: socket.socket) -> bytes:
    """One whole response on a kept-alive connection: the head, then as many body bytes as it announces
    (a single recv may stop between the two, leaving the body to be read as the next answer)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def trickle(conn: socket.socket, text: bytes, every: float, give_up_after: float) -> tuple[float, bytes]:
    """Send `text` a byte at a time until the server closes; (seconds until closed, what it answered)."""
    started = time.monotonic()
    conn.settimeout(every)
    for byte in text:
        if time.monotonic() - started > give_up_after:
            break
        try:
            conn.sendall(bytes([byte]))
            answered = conn.recv(65536)
        except TimeoutError:
            continue  # still open, nothing said: the next byte
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started, b""
        if answered == b"" or answered:
            rest = answered
            try:
                conn.settimeout(2)
                while chunk := conn.recv(65536):
                    rest += chunk
            except (TimeoutError, ConnectionResetError):
                pass
            return time.monotonic() - started, rest
    return time.monotonic() - started, b"still open"


@pytest.mark.parametrize("protocol", [BoundedHTTPProtocol, BoundedH11Protocol], ids=["auto", "h11"])
def test_a_client_trickling_its_headers_is_cut_off_while_others_are_served(catalog, monkeypatch, protocol):
    """1,000 connections trickling a byte a second were held open indefinitely."""
    server, thread, port = serve(catalog, monkeypatch, protocol=protocol)
    try:
        results = {}

        def slow_client():
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                results["slow"] = trickle(
                    conn, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200, 0.1, 15
                )

        slow = threading.Thread(target=slow_client)
        slow.start()
        time.sleep(0.3)
        served = [get(port) for _ in range(3)]  # while the slow one trickles
        slow.join(timeout=20)
        assert [status for status, _ in served] == [200, 200, 200]
        took, answer = results["slow"]
        assert HEADER_TIMEOUT - 0.2 <= took <= HEADER_TIMEOUT + 1.5, took
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout") and b"connection: close" in answer

        # An idle connection (nothing sent) is closed without an answer; so is a kept-alive one
        # whose next request trickles in after a served one.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
            started = time.monotonic()
            assert idle.recv(100) == b""
            assert time.monotonic() - started <= HEADER_TIMEOUT + 1.5
        with socket.create_connection(("127.0.0.1", port), timeout=10) as kept:
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert _read_one_response(kept).startswith(b"HTTP/1.1 200")
            took, answer = trickle(kept, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 200, 0.1, 15)
            assert took <= HEADER_TIMEOUT + 1.5 and answer.startswith(b"HTTP/1.1 408"), (took, answer[:80])
        # Headers past the size bound are refused at once, whichever parser uvicorn uses.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as huge:
            try:
                huge.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 40_000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            status, _ = _read_response(huge)
            assert status in (400, 431), status
        assert get(port)[0] == 200
    finally:
        stop(server, thread)


def test_past_the_connection_cap_clients_get_503_until_slots_free(catalog, monkeypatch):
    server, thread, port = serve(catalog, monkeypatch, max_connections=3)
    try:
        holders = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(3)]
        time.sleep(0.2)
        assert get(port)[0] == 503  # three idle connections hold every slot
        time.sleep(HEADER_TIMEOUT + 0.5)  # the header deadline closes them
        assert get(port)[0] == 200
        for holder in holders:
            holder.close()
    finally:
        stop(server, thread)


def test_request_threads_are_bounded_and_idle_memory_is_given_back(catalog, monkeypatch):
    monkeypatch.setenv("DATASET_CATALOG_SERVICE_THREADS", "3")
    monkeypatch.setattr(service_app, "IDLE_SECONDS_BEFORE_TRIM", 0.2)
    with TestClient(create_app(store=catalog)) as client:
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert tokens == 3
        traffic = client.app.state.traffic
        time.sleep(0.6)
        assert traffic.trims == 0  # nothing served, nothing to give back
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 5
        while traffic.trims == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert traffic.trims == 1 and traffic.served == 3 and traffic.in_flight == 0
        time.sleep(0.6)
        assert traffic.trims == 1  # once per burst, not on every tick


def test_the_service_keeps_numpy_blas_on_one_thread(catalog):
    # Idle OpenBLAS threads spin after each small product a search makes, taking the CPU that
    # concurrent searches need (benchmarks/bench_search_service.py). numpy's default: one per core.
    with TestClient(create_app(store=catalog)) as client:
        assert client.get("/healthz").status_code == 200
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas), blas
