"""Probe one URL: HEAD (GET fallback), manual redirects, SSRF-checked connections, timeouts.

Each request must be done within `timeout_seconds` as a whole (common/deadlines.py): a server
that trickles its answer a byte at a time is given up like one that never answers.

Each hop is resolved and checked by the AddressPolicy, then the socket is opened to that
checked IP while the Host header / TLS SNI / certificate check use the URL's host name.
Proxies from the environment are ignored on purpose: a proxy would do its own resolution.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from dataset_catalog.catalog.schema import LinkStatus
from dataset_catalog.common.deadlines import Deadline, DeadlineExceeded, call_with_deadline, current_deadline, shut_down
from dataset_catalog.maintenance.address_guard import (
    AddressPolicy,
    BlockedAddressError,
    IpAddress,
    ResolutionError,
)

USER_AGENT = "dataset_catalog-link-checker/0.1 (+https://github.com/; checks that dataset pages exist)"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Servers that refuse or don't implement HEAD; their GET answer is the real one.
HEAD_FALLBACK_CODES = frozenset({400, 403, 405, 406, 501})
GET_READ_LIMIT = 4096  # a GET fallback reads at most this many body bytes

HostSlot = Callable[[str], AbstractContextManager]


@dataclass(frozen=True)
class ProbeResult:
    status: str
    http_status: int | None = None
    final_url: str | None = None
    redirects: int = 0
    error: str | None = None


def classify_http(code: int) -> str:
    if 200 <= code < 300:
        return LinkStatus.OK
    if code in (404, 410):
        return LinkStatus.BROKEN
    if code == 429 or code >= 500:
        return LinkStatus.TRANSIENT
    return LinkStatus.HTTP_ERROR


def _connect(ip: IpAddress, port: int, timeout: float | None) -> socket.socket:
    """A TCP connection to exactly `ip` (no name lookup at all)."""
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    deadline = current_deadline()
    if deadline is not None:
        deadline.on_abort(lambda: shut_down(sock))
    try:
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((str(ip), port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given IP, speaking to the URL's host name."""

    def __init__(self, host: str, port: int, ip: IpAddress, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = _connect(self._ip, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: IpAddress, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._ip = ip
        self._ssl_context = context

    def connect(self) -> None:
        raw = _connect(self._ip, self.port, self.timeout)
        # server_hostname: SNI and certificate verification against the name, not the IP.
        self.sock = self._ssl_context.wrap_socket(raw, server_hostname=self.host)


_tls_context = ssl.create_default_context()


@dataclass(frozen=True)
class ProbeSettings:
    policy: AddressPolicy
    timeout_seconds: float = 10.0
    max_redirects: int = 5


def _request(method: str, url: str, settings: ProbeSettings, deadline: float) -> tuple[int, str | None]:
    """One request to one URL, done within timeout_seconds as a whole; (status, Location header)."""
    seconds = max(0.05, min(settings.timeout_seconds, deadline - time.monotonic()))
    return call_with_deadline(
        lambda _: _request_now(method, url, settings, deadline), Deadline(seconds, f"{method} {url}")
    )


def _request_now(method: str, url: str, settings: ProbeSettings, deadline: float) -> tuple[int, str | None]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = settings.policy.resolve(host, port)[0]
    timeout = max(0.05, min(settings.timeout_seconds, deadline - time.monotonic()))
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(host, port, ip, timeout, _tls_context)
    else:
        conn = _PinnedHTTPConnection(host, port, ip, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request(method, path, headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close"})
        response = conn.getresponse()
        if method == "GET":
            response.read(GET_READ_LIMIT)  # enough to see the server answers; never the whole page
        return response.status, response.getheader("Location")
    finally:
        conn.close()


def _validate(url: str) -> str | None:
    """Why `url` can't be checked, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"unsupported scheme {parts.scheme!r}"
    if not parts.hostname:
        return "no host"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "bad port"
    return None


def probe_url(url: str | None, settings: ProbeSettings, host_slot: HostSlot | None = None) -> ProbeResult:
    """Check one URL; never raises for network or HTTP trouble (it is the result)."""
    if not url or not url.strip():
        return ProbeResult(LinkStatus.INVALID, error="no URL")
    slot = host_slot or (lambda _host: contextlib.nullcontext())
    deadline = time.monotonic() + settings.timeout_seconds * (settings.max_redirects + 2)
    current, seen = url.strip(), set()
    for hop in range(settings.max_redirects + 1):
        problem = _validate(current)
        if problem:
            return ProbeResult(LinkStatus.INVALID, final_url=current, redirects=hop, error=problem)
        if current in seen:
            return ProbeResult(LinkStatus.INVALID, final_url=current, redirects=hop, error="redirect loop")
        seen.add(current)
        host = (urlsplit(current).hostname or "").lower()
        try:
            with slot(host):
                code, location = _request("HEAD", current, settings, deadline)
            if code in HEAD_FALLBACK_CODES:
                with slot(host):
                    code, location = _request("GET", current, settings, deadline)
        except BlockedAddressError as exc:
            return ProbeResult(LinkStatus.BLOCKED, final_url=current, redirects=hop, error=str(exc))
        except ResolutionError as exc:
            return ProbeResult(LinkStatus.TRANSIENT, final_url=current, redirects=hop, error=str(exc))
        except (TimeoutError, DeadlineExceeded):
            return ProbeResult(LinkStatus.TRANSIENT, final_url=current, redirects=hop, error="timed out")
        except ssl.SSLCertVerificationError as exc:
            return ProbeResult(
                LinkStatus.HTTP_ERROR, final_url=current, redirects=hop, error=f"TLS: {exc.verify_message}"
            )
        except (OSError, http.client.HTTPException) as exc:
            return ProbeResult(
                LinkStatus.TRANSIENT, final_url=current, redirects=hop, error=f"{type(exc).__name__}: {exc}"[:300]
            )
        if code in REDIRECT_CODES:
            if not location:
                return ProbeResult(LinkStatus.INVALID, code, current, hop, "redirect without Location")
            current = urljoin(current, location.strip())
            continue
        return ProbeResult(classify_http(code), code, current, hop)
    return ProbeResult(
        LinkStatus.INVALID, None, current, settings.max_redirects, f"more than {settings.max_redirects} redirects"
    )
