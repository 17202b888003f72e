"""HTTP GETs that are done within a whole-call deadline, without a thread per call.

Socket timeouts bound each read, so a server that trickles a byte at a time never trips them.
common/deadlines.py's `call_with_deadline` bounds a call as a whole by running it in a new
thread: measured ~0.6 ms a call on 2 busy cores, half the cost of a request to a local server,
and the OpenML sync makes two calls per changed dataset. Here the call runs in the caller's
thread; its connection registers its socket with the call's Deadline, and one watchdog thread
per session cancels a Deadline that has passed, which shuts the socket down: the blocked read
returns at once, in the headers or in the body.

The session also reads the environment's proxy and CA settings once: requests re-reads them
from os.environ on every request (measured: a sixth of a request to a local server).
"""

from __future__ import annotations

import contextvars
import os
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dataset_catalog.common.deadlines import Deadline, shut_down

WATCHDOG_INTERVAL_SECONDS = 0.05
MAX_BODY_BYTES = 256 * 1024 * 1024
_call_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("openml_call_deadline", default=None)


class ResponseTooLarge(ValueError):
    """An answer larger than MAX_BODY_BYTES."""


class _WatchedConnection:
    def request(self, *args: Any, **kwargs: Any):
        if self.sock is None:  # a fresh HTTP connection: connect now, so its socket can be registered
            self.connect()
        deadline = _call_deadline.get()
        if deadline is not None:
            sock = self.sock
            deadline.on_abort(lambda: shut_down(sock))
        return super().request(*args, **kwargs)


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type("WatchedHTTPConnection", (_WatchedConnection, HTTPConnection), {})
        https = type("WatchedHTTPSConnection", (_WatchedConnection, HTTPSConnection), {})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("WatchedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("WatchedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


class _Watchdog:
    """Cancels the watched Deadline once it has passed (checked every 50 ms)."""

    def __init__(self):
        self._current: Deadline | None = None
        # Held while cancelling: once watch() has moved on, a finished call's socket (back in the
        # pool, maybe the next call's) is never shut down.
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="http-call-watchdog", daemon=True).start()

    def watch(self, deadline: Deadline | None) -> None:
        with self._lock:
            self._current = deadline

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(WATCHDOG_INTERVAL_SECONDS):
            with self._lock:
                if self._current is not None and self._current.remaining() <= 0:
                    self._current.cancel()


class WatchedSession:
    """GETs of one endpoint, one at a time, each within its whole-call deadline."""

    def __init__(self, endpoint: str, user_agent: str):
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self._session.headers["Accept"] = "application/json"
        self._session.proxies = requests.utils.get_environ_proxies(endpoint)
        self._session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._session.trust_env = False
        adapter = _WatchedAdapter(max_retries=0)  # retries are the caller's, each one paced
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._watchdog = _Watchdog()

    def get(
        self, url: str, params: dict | None, timeout_seconds: float, what: str
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body); DeadlineExceeded (common/deadlines.py) when the whole call took longer than
        `timeout_seconds`, requests' errors for the rest (connection failures, ...)."""
        deadline = Deadline(timeout_seconds, what)
        token = _call_deadline.set(deadline)
        self._watchdog.watch(deadline)
        try:
            with self._session.get(
                url, params=params, timeout=(min(timeout_seconds, 30.0), timeout_seconds), stream=True
            ) as response:
                chunks, size = [], 0
                for chunk in response.iter_content(1 << 16):
                    deadline.check()
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise ResponseTooLarge(f"{what}: the answer is larger than {MAX_BODY_BYTES >> 20} MiB.")
                    chunks.append(chunk)
                if deadline.cancelled:  # cut off mid-headers, http.client may take what came for a whole answer
                    raise deadline.exceeded()
                return response.status_code, dict(response.headers), b"".join(chunks)
        except (requests.RequestException, OSError):
            if deadline.cancelled:  # the watchdog shut the socket down: the call took too long
                raise deadline.exceeded() from None
            raise
        finally:
            self._watchdog.watch(None)
            _call_deadline.reset(token)

    def close(self) -> None:
        self._watchdog.stop()
        self._session.close()
