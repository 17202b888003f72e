"""The service process under uvicorn (`dataset-catalog serve`), with the bounds the app cannot
set itself: how long a client may take to send a request's headers, and how many connections
may be open.

uvicorn has no header-read timeout (`timeout_keep_alive` counts only between requests): a
client trickling a byte a second held its connection, and a slot of `limit_concurrency`, for
ever. `BoundedHTTPProtocol` is uvicorn's own protocol (httptools, else h11) with a deadline.
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from dataset_catalog import settings

log = logging.getLogger("dataset_catalog.service")
DEFAULT_MAX_HEADER_BYTES = 16 * 1024  # h11's default: the same bound whichever parser uvicorn uses


class HeaderDeadline:
    """Mixed into a uvicorn HTTP protocol class (httptools or h11): a request's headers must
    arrive within `settings.service_header_timeout()` seconds of the connection opening (or, on
    a kept-alive connection, of the next request's first byte) and within DEFAULT_MAX_HEADER_BYTES;
    otherwise the client gets 408 (or 431) and the connection closes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.header_timeout = settings.service_header_timeout()  # read per process: workers inherit the env
        self.max_header_bytes = self.config.h11_max_incomplete_event_size or DEFAULT_MAX_HEADER_BYTES
        self._header_deadline = None
        self._header_bytes = 0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_header_deadline()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle  # both parsers start a new cycle when a request's headers are complete
        awaiting_headers = self._header_deadline is not None or cycle is None or cycle.response_complete
        super().data_received(data)
        if self.cycle is not cycle:
            self._stop_header_deadline()
        elif awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse(431, "Request Header Fields Too Large", "The request headers are too large.")
            elif self._header_deadline is None:
                self._start_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_deadline()
        super().connection_lost(exc)

    def _start_header_deadline(self) -> None:
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self._header_bytes = 0

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if not self._header_bytes:  # an idle connection: nothing was asked, nothing to answer
            self.transport.close()
            return
        self._refuse(408, "Request Timeout", f"The request headers took longer than {self.header_timeout:g} s.")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self._stop_header_deadline()
        body = message.encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()


class BoundedHTTPProtocol(HeaderDeadline, AutoHTTPProtocol):
    """uvicorn's HTTP protocol (httptools where installed, else h11) with the header deadline."""


def run_service(*, host: str, port: int, workers: int, log_level: str, access_log: bool) -> None:
    """Serve the configured catalog with uvicorn, bounded by the service settings. Raises
    DatasetCatalogError (the catalog cannot be opened, a setting is unusable) before anything
    listens, OSError when it cannot listen on host:port."""
    import uvicorn

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.service.app import create_app

    settings.service_header_timeout(), settings.service_threads()  # refused now, not per connection
    common = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "server_header": False,
        "access_log": access_log,
        "http": BoundedHTTPProtocol,
        "limit_concurrency": settings.service_max_connections(),
    }
    # Opened before uvicorn starts: a catalog that cannot be opened is one error, not a start-up traceback.
    store = CatalogStore()
    try:
        if workers > 1:  # uvicorn starts each worker from the factory's import path
            store.close()
            uvicorn.run("dataset_catalog.service.app:create_app", factory=True, workers=workers, **common)
        else:
            uvicorn.run(create_app(store=store), **common)
    finally:
        store.close()
