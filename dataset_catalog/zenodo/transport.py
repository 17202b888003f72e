"""Every HTTP request to Zenodo's OAI-PMH endpoint: paced, time-limited, retried, rate-limit aware.

An httpx2 transport under oaipmh-scythe's client, so the library builds the requests and reads the
OAI-PMH answers while this module decides when a request may go and what a failure means:

- the pace: one shared Pacer per (endpoint, pace), across threads and processes (common/pacing.py);
- `X-RateLimit-Remaining: 0` holds the next request until `X-RateLimit-Reset`; a 429 holds it for
  `Retry-After` (else the backoff) and is tried again, a bounded number of times;
- 5xx, timeouts, dropped connections and answers that are not OAI-PMH get a bounded retry with
  exponential backoff; each try must be done within `request_timeout_seconds` as a whole, a server
  that trickles included (common/deadlines.py);
- a resumption token lives 2 minutes at Zenodo: the expiry each page announces is remembered, and
  a request that could only go after its token died raises ResumptionTokenExpired instead of
  sending it, so the walk restarts (client.py) rather than stalling into a certain 422.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx2

from dataset_catalog.common.cleaning import parse_datetime
from dataset_catalog.common.deadlines import Deadline, DeadlineExceeded, call_with_deadline
from dataset_catalog.common.pacing import Pacer, parse_retry_after
from dataset_catalog.errors import CredentialsError, DatasetCatalogError, SourceUnavailableError, redact

DEFAULT_TOKEN_LIFETIME_SECONDS = 120.0  # Zenodo's documented lifetime, when a page names none
MAX_BACKOFF_SECONDS = 60.0
_TOKEN = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b([^>]*)>([^<]*)<")
_EXPIRATION = re.compile(rb"""expirationDate\s*=\s*["']([^"']+)["']""")


class ZenodoUnavailableError(SourceUnavailableError):
    """Zenodo did not answer usefully (5xx, timeouts, trickles, not OAI-PMH), retries included."""


class ZenodoRateLimitError(SourceUnavailableError):
    """Zenodo kept answering 429 after the waits it asked for."""


class ZenodoResponseError(SourceUnavailableError):
    """Zenodo answered, but refused the request (a 4xx, an OAI-PMH error about our arguments)."""


class ResumptionTokenExpired(DatasetCatalogError):
    """The page's resumption token is dead, or would be by the time the request may go."""


@dataclass
class TransportStats:
    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    rate_limited: int = 0  # 429 answers
    rate_limit_waits: int = 0  # waits for X-RateLimit-Reset before a request
    waited_seconds: float = 0.0  # time held back by Retry-After, X-RateLimit and backoff (not the pace)
    server_errors: int = 0
    timeouts: int = 0


def _header_float(headers: httpx2.Headers, name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


class RateGate:
    """When the next request may go: after the pace's slot, and not before `not_before`."""

    def __init__(self, pacer: Pacer | None, max_wait_seconds: float, sleep: Callable[[float], None] = time.sleep):
        self.pacer, self.max_wait_seconds, self._sleep = pacer, max_wait_seconds, sleep
        self.not_before = 0.0  # time.monotonic()

    def hold(self, seconds: float) -> None:
        self.not_before = max(self.not_before, time.monotonic() + min(max(seconds, 0.0), self.max_wait_seconds))

    def delay(self) -> float:
        """At most how long the next request may have to wait."""
        return max(self.not_before - time.monotonic(), 0.0) + (self.pacer.interval if self.pacer else 0.0)

    def wait(self) -> float:
        held = max(self.not_before - time.monotonic(), 0.0)
        if held:
            self._sleep(held)
        if self.pacer is not None:
            self.pacer.wait()
        return held

    def observe(self, headers: httpx2.Headers) -> bool:
        """Honour `X-RateLimit-Remaining: 0`: no request before `X-RateLimit-Reset` (epoch seconds)."""
        remaining = _header_float(headers, "x-ratelimit-remaining")
        reset = _header_float(headers, "x-ratelimit-reset")
        if remaining is None or remaining > 0 or reset is None:
            return False
        # Reset is the server's epoch second: a little margin for its rounding and clock.
        self.hold(reset - time.time() + 0.25)
        return True


class ZenodoTransport(httpx2.BaseTransport):
    def __init__(
        self,
        gate: RateGate,
        *,
        request_timeout_seconds: float,
        max_retries: int,
        retry_backoff_seconds: float,
        max_rate_limit_waits: int,
        secrets: list[str | None],
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.gate = gate
        self.request_timeout_seconds = request_timeout_seconds
        self.max_retries = max_retries
        self.retry_backoff_seconds = retry_backoff_seconds
        self.max_rate_limit_waits = max_rate_limit_waits
        self.stats = TransportStats()
        self._secrets = secrets
        self._sleep = sleep
        self._inner = httpx2.HTTPTransport()
        self._token_expiry: dict[str, float] = {}  # token -> time.monotonic() it dies at

    def close(self) -> None:
        self._inner.close()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    # -- one request, every try ---------------------------------------------------------------
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        token = request.url.params.get("resumptionToken")
        what = "the next page (resumption token)" if token else f"{request.url.params.get('verb', 'a request')}"
        rate_limit_waits, reason = 0, ""
        for attempt in range(self.max_retries + 1 + self.max_rate_limit_waits):
            self._check_token(token)
            self.stats.waited_seconds += self.gate.wait()
            self.stats.requests += 1
            try:
                response = call_with_deadline(
                    lambda _: self._send(request), Deadline(self.request_timeout_seconds, f"Zenodo OAI-PMH {what}")
                )
            except (DeadlineExceeded, httpx2.TimeoutException):
                self.stats.timeouts += 1
                reason = f"no complete answer within {self.request_timeout_seconds:g} s"
            except httpx2.TransportError as exc:
                reason = f"connection failure ({type(exc).__name__})"
            else:
                if self.gate.observe(response.headers):
                    self.stats.rate_limit_waits += 1
                status = response.status_code
                if status == 429:
                    self.stats.rate_limited += 1
                    rate_limit_waits += 1
                    if rate_limit_waits > self.max_rate_limit_waits:
                        raise ZenodoRateLimitError(
                            f"Zenodo at {request.url.copy_with(query=None)} kept answering HTTP 429 after "
                            f"{self.max_rate_limit_waits} waits. Lower the zenodo resource's requests_per_minute "
                            "(Zenodo allows 30 OAI-PMH requests a minute) or re-run later; batches already "
                            "written are kept."
                        )
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    self.gate.hold(retry_after if retry_after is not None else self._backoff(rate_limit_waits - 1))
                    continue
                if status >= 500:
                    self.stats.server_errors += 1
                    reason = f"HTTP {status}"
                elif status == 200 and not _is_oai_pmh(response.content):
                    reason = "an answer that is not OAI-PMH XML"
                else:
                    return self._accept(request, token, response)
            tries = attempt + 1 - rate_limit_waits
            if tries > self.max_retries:
                break
            self.stats.retries += 1
            self.gate.hold(self._backoff(tries - 1))
        raise ZenodoUnavailableError(
            self._redact(
                f"Zenodo OAI-PMH at {request.url.copy_with(query=None)} failed after {self.max_retries + 1} tries "
                f"({reason}). Batches already written are kept; re-run the partition later, or raise the zenodo "
                "resource's request_timeout_seconds / max_retries."
            )
        )

    def _backoff(self, retry_number: int) -> float:
        return min(self.retry_backoff_seconds * 2**retry_number, MAX_BACKOFF_SECONDS)

    def _check_token(self, token: str | None) -> None:
        if token is None:
            return
        expires = self._token_expiry.get(token)
        if expires is None:
            return
        lifetime_left = expires - time.monotonic()
        if lifetime_left - self.gate.delay() <= min(5.0, lifetime_left / 10 if lifetime_left > 0 else 0.0):
            raise ResumptionTokenExpired(
                f"the resumption token expires in {max(lifetime_left, 0):.1f} s, before the next request may go "
                f"(held {self.gate.delay():.1f} s by the rate limit)"
            )

    def _send(self, request: httpx2.Request) -> httpx2.Response:
        """One try, body included (the deadline covers it), decoded: the client sees plain bytes."""
        response = self._inner.handle_request(request)
        try:
            body = response.read()
        finally:
            response.close()
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(response.status_code, headers=headers, content=body, request=request)

    def _accept(self, request: httpx2.Request, token: str | None, response: httpx2.Response) -> httpx2.Response:
        status = response.status_code
        if status in (401, 403):
            raise CredentialsError(
                f"Zenodo at {request.url.copy_with(query=None)} rejected the request (HTTP {status}): check "
                "ZENODO_TOKEN (or the zenodo resource's token), or unset it to harvest anonymously."
            )
        if status >= 400 and not _is_oai_pmh(response.content):
            if status == 422 and token is not None:  # Zenodo's answer to a dead resumption token
                raise ResumptionTokenExpired(f"Zenodo refused the resumption token (HTTP {status})")
            raise ZenodoResponseError(
                f"Zenodo at {request.url.copy_with(query=None)} refused the request with HTTP {status}: "
                f"{self._redact(response.text[:200])!r}. Check the zenodo resource's endpoint "
                f"(DATASET_CATALOG_ZENODO_ENDPOINT)."
            )
        self._remember_token_expiry(response)
        return response

    def _remember_token_expiry(self, response: httpx2.Response) -> None:
        """The expiry of the token this page hands out, on our own monotonic clock."""
        body = response.content
        # The token ends the list: search from its tag, not through the 50 records before it.
        last = body.rfind(b"resumptionToken")
        opening = body.rfind(b"resumptionToken", 0, last) if last >= 0 else -1
        found = _TOKEN.search(body, max((opening if opening >= 0 else last) - 20, 0)) if last >= 0 else None
        self._token_expiry.clear()  # only the newest token is ever used
        if not found or not found.group(2).strip():
            return
        token = found.group(2).strip().decode("utf-8", "replace")
        lifetime = DEFAULT_TOKEN_LIFETIME_SECONDS
        expiration = _EXPIRATION.search(found.group(1))
        expires_at = parse_datetime(expiration.group(1).decode("ascii", "replace")) if expiration else None
        if expires_at is not None:
            # Against the server's own clock (its Date header) where it sends one: skew-proof.
            try:
                server_now = parsedate_to_datetime(response.headers["date"]).timestamp()
            except (KeyError, TypeError, ValueError):
                server_now = time.time()
            lifetime = min(max(expires_at.timestamp() - server_now, 0.0), 3600.0)
        self._token_expiry[token] = time.monotonic() + lifetime


def _is_oai_pmh(body: bytes) -> bool:
    return b"OAI-PMH" in body[:4096]
