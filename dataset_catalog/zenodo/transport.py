"""Every HTTP request of oaipmh-scythe's client to Zenodo's OAI-PMH endpoint, through common/http.py.

An httpx2 transport under oaipmh-scythe's client: the library builds the requests and reads the
OAI-PMH answers; this shim hands each request to an HttpSession (the pace across threads and
processes, `X-RateLimit-Remaining: 0` held until `X-RateLimit-Reset`, 429 waited out for its
Retry-After, 5xx / timeouts / trickles / answers that are not OAI-PMH retried with backoff, each
try within `request_timeout_seconds` as a whole) and translates the answer back. What is Zenodo's
own stays here: a resumption token lives 2 minutes at Zenodo, so the expiry each page announces is
remembered, and a request that could only go after its token died raises ResumptionTokenExpired
instead of being sent, so the walk restarts (client.py) rather than stall into a certain 422.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime

import httpx2

from dataset_catalog.common.cleaning import parse_datetime
from dataset_catalog.common.http import Answer, HttpSession
from dataset_catalog.errors import (
    CredentialsError,
    DatasetCatalogError,
    SourceRateLimitError,
    SourceUnavailableError,
)

DEFAULT_TOKEN_LIFETIME_SECONDS = 120.0  # Zenodo's documented lifetime, when a page names none
_TOKEN = re.compile(rb"<(?:[\w.-]+:)?resumptionToken\b([^>]*)>([^<]*)<")
_EXPIRATION = re.compile(rb"""expirationDate\s*=\s*["']([^"']+)["']""")
# Set by httpx2 for its own decoding and framing; requests does both on its side.
_HOP_HEADERS = ("host", "accept-encoding", "connection", "content-length", "transfer-encoding", "content-encoding")


class ZenodoUnavailableError(SourceUnavailableError):
    """Zenodo did not answer usefully (5xx, timeouts, trickles, not OAI-PMH), retries included."""


class ZenodoRateLimitError(SourceRateLimitError):
    """Zenodo kept answering 429 after the waits it asked for."""


class ZenodoResponseError(SourceUnavailableError):
    """Zenodo answered, but refused the request (a 4xx, an OAI-PMH error about our arguments)."""


class ResumptionTokenExpired(DatasetCatalogError):
    """The page's resumption token is dead, or would be by the time the request may go."""


class ZenodoTransport(httpx2.BaseTransport):
    def __init__(self, http: HttpSession):
        self.http = http
        self.stats = http.stats
        self._token_expiry: dict[str, float] = {}  # token -> time.monotonic() it dies at

    def close(self) -> None:
        self.http.close()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        token = request.url.params.get("resumptionToken")
        what = "the next page (resumption token)" if token else request.url.params.get("verb", "a request")
        answer = self.http.send(
            request.method,
            str(request.url),
            what=what,
            headers={k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS},
            data=request.read() or None,
            before_try=lambda delay: self._check_token(token, delay),
            transient=_not_oai_pmh,
        )
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS]
        response = httpx2.Response(answer.status, headers=headers, content=answer.body, request=request)
        return self._accept(request, token, response)

    def _check_token(self, token: str | None, delay: float) -> None:
        """Raise ResumptionTokenExpired when `token` would die before a request held `delay` s goes."""
        expires = self._token_expiry.get(token) if token is not None else None
        if expires is None:
            return
        lifetime_left = expires - time.monotonic()
        if lifetime_left - delay <= min(5.0, lifetime_left / 10 if lifetime_left > 0 else 0.0):
            raise ResumptionTokenExpired(
                f"the resumption token expires in {max(lifetime_left, 0):.1f} s, before the next request may go "
                f"(held {delay:.1f} s by the rate limit)"
            )

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
                f"{self.http.redact(response.text[:200])!r}. Check the zenodo resource's endpoint "
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


def _not_oai_pmh(answer: Answer) -> str | None:
    """Why a 200 answer is worth trying again: a proxy's or load balancer's page, not OAI-PMH."""
    return "an answer that is not OAI-PMH XML" if answer.status == 200 and not _is_oai_pmh(answer.body) else None
