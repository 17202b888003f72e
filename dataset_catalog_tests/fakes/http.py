"""A threaded loopback HTTP server base that records every request it receives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Trickle:
    """Send a response a byte every `interval` seconds: from its first byte ("headers") or after
    the headers ("body"), for the requests `applies` selects."""

    phase: str
    interval: float
    applies: Callable[[RecordedRequest], bool] = lambda request: True


class FakeServer:
    """Runs `handle(request) -> (status, headers, body)` on 127.0.0.1 in a background thread.

    `host` may be another loopback address (127.0.0.2, ...) to stand for a distinct host.
    Setting `trickle` makes it a server that never stalls long enough for a read timeout.
    """

    def __init__(self, host: str = "127.0.0.1"):
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self.trickle: Trickle | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with fake._lock:
                    fake.requests.append(request)
                status, headers, body = fake.handle(request)
                if fake.stopping.is_set():
                    return
                trickle = fake.trickle
                if trickle is not None and trickle.applies(request):
                    self._trickle(trickle, status, headers, body)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _trickle(self, trickle: Trickle, status: int, headers: dict[str, str], body: bytes) -> None:
                head = f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": len(body)}.items())
                raw = (head + "\r\n").encode() + (body if self.command != "HEAD" else b"")
                start = 0 if trickle.phase == "headers" else len(head) + 2
                self.wfile.write(raw[:start])
                self.wfile.flush()
                for i in range(start, len(raw)):
                    if fake.stopping.wait(trickle.interval):
                        return
                    try:
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up
                        return
                self.close_connection = True

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
