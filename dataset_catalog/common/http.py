"""One HTTP layer for our own clients of a source: paced, time-limited, retried, secret-free.

A client says

    http = paced_session(source="x", endpoint=url, requests_per_second=2.0,
                         policy=RetryPolicy(max_retries=3), secrets=[token], label="X")
    data = get_json(http, f"{url}/items", what="the item listing")

and every request gets:
- the pace: a slot of the cross-process Pacer of (source, endpoint, pace) (common/pacing.py),
  taken once the connection is set up, just before the request is written (`PacedAdapter`), so a
  slow connect or TLS handshake can't bring two requests closer than the pace;
- a whole-call deadline per try, without a thread per call: the connection registers its socket
  with the try's Deadline and the process's watchdog shuts it down once the deadline has passed
  (common/deadlines.py `watched`), so a server trickling a byte at a time is given up too;
- one retry policy (`RetryPolicy`, in common/http_policy.py with the other terms): 5xx, timeouts and dropped connections back off exponentially;
  a 429 is waited out for its Retry-After (a longer one than allowed fails at once);
  `X-RateLimit-Remaining: 0` holds the next request until `X-RateLimit-Reset`; tries, and
  optionally the time a call takes, are bounded;
- outage detection: once `outage_after_failed_calls` calls in a row failed past their retries,
  the source is down and the session's further calls fail at once, sending nothing;
- our own errors (the source's subclasses, `SourceErrors`) whose messages say what to do, with
  every secret redacted; urllib3's DEBUG log of each URL is redacted too.

A library that does its own HTTP on top of requests (kaggle) gets a `PacedAdapter` mounted in its
session, and each of its calls runs through `HttpSession.call`. oaipmh-scythe's httpx2 client
gets a transport that hands each request to `HttpSession.send` (zenodo/transport.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import orjson
import requests
import urllib3

from dataset_catalog.common.deadlines import Deadline, DeadlineExceeded, current_deadline, watched
from dataset_catalog.common.http_policy import (
    DEFAULT_ADVICE,
    DEFAULT_ERRORS,
    DEFAULT_POLICY,
    Advice,
    Answer,
    HttpStats,
    RetryableAnswer,
    RetryPolicy,
    SourceErrors,
)
from dataset_catalog.common.pacing import PacedAdapter, Pacer, pacer_for, parse_retry_after
from dataset_catalog.errors import CredentialsError, redact

# The terms clients name, importable from here with the session.
__all__ = [
    "Advice",
    "Answer",
    "HttpSession",
    "HttpStats",
    "RetryPolicy",
    "RetryableAnswer",
    "SourceErrors",
    "get_json",
    "paced_session",
]
T = TypeVar("T")
MAX_BODY_BYTES = 256 * 1024 * 1024
# What a try raises when the source did not answer (retried); any other exception is an answer.
# urllib3's own: a library reading `response.raw` itself (kaggle's downloads) sees those unwrapped.
TIMEOUTS = (requests.Timeout, urllib3.exceptions.TimeoutError)
NO_ANSWER = (
    *TIMEOUTS,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
)


class HttpSession:
    """The calls of one client to one source endpoint, under one policy; may be shared by threads."""

    def __init__(
        self,
        label: str,
        endpoint: str,
        *,
        pacer: Pacer | None,
        policy: RetryPolicy,
        timeout_seconds: float,
        secrets: Iterable[str | None] = (),
        errors: SourceErrors = DEFAULT_ERRORS,
        advice: Advice = DEFAULT_ADVICE,
        headers: Mapping[str, str] | None = None,
        stats: HttpStats | None = None,
    ):
        self.label, self.endpoint, self.pacer, self.policy = label, endpoint, pacer, policy
        self.timeout_seconds, self.errors, self.advice = timeout_seconds, errors, advice
        self.timeout = (min(timeout_seconds, 30.0), timeout_seconds)
        self.secrets = [s for s in secrets if s]
        self.stats = stats if stats is not None else HttpStats()
        self._lock = threading.Lock()
        self._not_before = 0.0  # time.monotonic() before which no try may go
        self._failed_calls = 0  # in a row
        self._last_failure = ""
        hide_in_urllib3_logs(self.secrets)
        # requests re-reads proxy and CA settings from os.environ on every request (a sixth of a
        # request to a local server): read them once.
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.proxies = requests.utils.get_environ_proxies(endpoint)
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        adapter = self.new_adapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def new_adapter(self) -> PacedAdapter:
        """An adapter for a library's own requests session (each library client builds one)."""
        return PacedAdapter(self.pacer, self.timeout, self.observe)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    # -- holds ------------------------------------------------------------------------------
    def hold(self, seconds: float) -> None:
        """No try before `seconds` from now (at most max_retry_after_seconds)."""
        seconds = min(max(seconds, 0.0), self.policy.max_retry_after_seconds)
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)

    def delay(self) -> float:
        """At most how long the next try may have to wait: the hold, then a pacer slot."""
        return max(self._not_before - time.monotonic(), 0.0) + (self.pacer.interval if self.pacer else 0.0)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Honour `X-RateLimit-Remaining: 0`: no try before `X-RateLimit-Reset` (epoch seconds)."""
        remaining, reset = _number(headers.get("x-ratelimit-remaining")), _number(headers.get("x-ratelimit-reset"))
        if remaining is not None and remaining <= 0 and reset is not None and reset > time.time():
            self.stats.rate_limit_waits += 1
            self.hold(reset - time.time() + 0.25)  # the server's epoch second: margin for rounding and clocks

    def _wait_for_hold(self) -> None:
        held = self._not_before - time.monotonic()
        if held > 0:
            time.sleep(held)
            self.stats.waited_seconds += held

    # -- calls ------------------------------------------------------------------------------
    def call(self, what: str, attempt: Callable[[], T], *, before_try: Callable[[float], None] | None = None) -> T:
        """`attempt()`'s result, tried under the policy, each try within `timeout_seconds` as a
        whole. `attempt` fails a try by raising a RetryableAnswer, a `requests.HTTPError` of a 429
        or 5xx, or an error of NO_ANSWER; anything else it raises is its answer and goes to the
        caller. `before_try(delay)` runs before each try, told how long it may have to wait."""
        policy, started = self.policy, time.monotonic()
        if policy.outage_after_failed_calls and self._failed_calls >= policy.outage_after_failed_calls:
            raise self.errors.unavailable(
                self.redact(
                    f"{self.label} {what} was not sent: {self._failed_calls} calls in a row at {self.endpoint} "
                    f"failed after their retries (last: {self._last_failure}), so {self.label} looks down. "
                    f"{self.advice.unavailable}"
                )
            )
        failures = waits = 0
        while True:
            if before_try is not None:
                before_try(self.delay())
            self._wait_for_hold()
            self.stats.requests += 1
            deadline = Deadline(self.timeout_seconds, f"{self.label} {what}")
            status, headers, reason = None, {}, ""
            try:
                with watched(deadline):
                    result = attempt()
                    if deadline.cancelled:  # cut off mid-headers, http.client may take it for an answer
                        raise deadline.exceeded()
                self._failed_calls = 0
                return result
            except Exception as exc:
                if deadline.cancelled or isinstance(exc, (DeadlineExceeded, *TIMEOUTS)):
                    self.stats.timeouts += 1
                    reason = f"timeout: no complete answer within {self.timeout_seconds:g} s"
                elif isinstance(exc, RetryableAnswer):
                    status, headers, reason = exc.answer.status, exc.answer.headers, exc.reason
                elif (
                    isinstance(exc, requests.HTTPError)
                    and exc.response is not None
                    and _retryable(exc.response.status_code)
                ):
                    status, headers, reason = exc.response.status_code, exc.response.headers, ""
                elif isinstance(exc, NO_ANSWER):
                    reason = f"connection failure ({type(exc).__name__})"
                else:
                    self._failed_calls = 0  # the source answered
                    raise
            if status == 429:
                self.stats.rate_limited += 1
                waits += 1
                retry_after = parse_retry_after(headers.get("Retry-After"))
                self._rate_limit_check(what, waits, retry_after)
                wait = retry_after if retry_after is not None else policy.backoff(waits - 1)
                self.stats.waited_for_retry_after_seconds += retry_after or 0.0
                reason = "HTTP 429 (rate limited)"
            else:
                if status is not None and status >= 500:
                    self.stats.server_errors += 1
                reason = reason or f"HTTP {status}"
                failures += 1
                if failures > policy.max_retries:
                    raise self._unavailable(what, f"failed after {failures} tries ({reason})")
                wait = policy.backoff(failures - 1)
            spent = time.monotonic() - started
            if policy.give_up_after_seconds is not None and spent + wait > policy.give_up_after_seconds:
                detail = (
                    f"gave up after {failures + waits} tries in {spent:.1f} s (give_up_after_seconds "
                    f"{policy.give_up_after_seconds:g}; last: {reason})"
                )
                if status == 429:  # the source answers: not an outage
                    raise self.errors.rate_limited(
                        self.redact(f"{self.label} {what} at {self.endpoint} {detail}. {self.advice.rate_limited}")
                    )
                raise self._unavailable(what, detail)
            self.stats.retries += 1
            self.hold(wait)

    def _unavailable(self, what: str, detail: str) -> Exception:
        """The error of a call that failed past its retries; counts towards the outage."""
        self._failed_calls += 1
        self._last_failure = detail
        return self.errors.unavailable(
            self.redact(f"{self.label} {what} at {self.endpoint} {detail}. {self.advice.unavailable}")
        )

    def _rate_limit_check(self, what: str, waits: int, retry_after: float | None) -> None:
        limit = self.policy.max_retry_after_seconds
        if waits > self.policy.max_rate_limit_waits:
            given = f"{retry_after:g} s" if retry_after is not None else "not given"
            after = f", after {waits - 1} waits" if waits > 1 else ""
            detail = f"(HTTP 429, Retry-After {given}{after})"
        elif retry_after is not None and retry_after > limit:
            detail = (
                f"(HTTP 429) and it asks us to wait {retry_after:.0f} s, more than "
                f"{self.advice.retry_after_limit} ({limit:g})"
            )
        else:
            return
        raise self.errors.rate_limited(
            self.redact(f"{self.label} rate limit hit during {what} {detail}. {self.advice.rate_limited}"), retry_after
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        before_try: Callable[[float], None] | None = None,
        transient: Callable[[Answer], str | None] | None = None,
    ) -> Answer:
        """The answer to one request, body read whole, under the policy (see `call`); `transient`
        names what is wrong with an answer worth trying again (None: nothing)."""

        def attempt() -> Answer:
            try:
                with self.session.request(
                    method, url, params=params, headers=headers, data=data, stream=True
                ) as response:
                    answer = Answer(response.status_code, response.headers, self._read(response, what))
            except requests.RequestException as exc:
                deadline = current_deadline()
                if isinstance(exc, NO_ANSWER) or (deadline is not None and deadline.cancelled):
                    raise
                raise self.errors.unavailable(
                    self.redact(
                        f"{self.label} {what} at {self.endpoint} failed: {type(exc).__name__}. {self.advice.endpoint}"
                    )
                ) from None
            if _retryable(answer.status):
                raise RetryableAnswer(answer, f"HTTP {answer.status}")
            reason = transient(answer) if transient is not None else None
            if reason:
                raise RetryableAnswer(answer, reason)
            return answer

        return self.call(what, attempt, before_try=before_try)

    def get(self, url: str, *, what: str, params: Mapping[str, str] | None = None) -> Answer:
        return self.send("GET", url, what=what, params=params)

    def _read(self, response: requests.Response, what: str) -> bytes:
        deadline, chunks, size = current_deadline(), [], 0
        for chunk in response.iter_content(1 << 16):
            if deadline is not None:
                deadline.check()
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise self.errors.response(
                    f"{self.label} {what}: the answer is larger than {MAX_BODY_BYTES >> 20} MiB."
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def refused(self, answer: Answer, what: str) -> Exception:
        """Our error for an answer that is not a success (and not worth trying again)."""
        if answer.status in (401, 403):
            return CredentialsError(
                f"{self.label} rejected the credentials during {what} (HTTP {answer.status}). {self.advice.credentials}"
            )
        detail = self.redact(answer.body[:200].decode("utf-8", "replace"))
        return self.errors.response(f"{self.label} {what} failed with HTTP {answer.status}: {detail}", answer.status)


def get_json(
    session: HttpSession,
    url: str,
    *,
    what: str,
    params: Mapping[str, str] | None = None,
    refused: Callable[[Answer, str], Exception] | None = None,
) -> Any:
    """The JSON document at `url`; `refused(answer, what)` (default: `session.refused`) is the
    error for an answer that is neither a success nor worth trying again."""
    answer = session.get(url, what=what, params=params)
    if not 200 <= answer.status < 300:
        raise (refused or session.refused)(answer, what)
    try:
        return orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        raise session.errors.response(f"{session.label} returned malformed JSON for {what}.", answer.status) from None


def paced_session(
    *,
    source: str,
    endpoint: str,
    requests_per_second: float | None,
    policy: RetryPolicy = DEFAULT_POLICY,
    timeout_seconds: float = 60.0,
    label: str | None = None,
    **options: Any,
) -> HttpSession:
    """A session of `source` at `endpoint`, paced at `requests_per_second` across threads and
    processes (None: unpaced); `options` as HttpSession's (secrets, errors, advice, headers, stats)."""
    endpoint = endpoint.rstrip("/")
    pacer = pacer_for(source, endpoint, requests_per_second) if requests_per_second else None
    return HttpSession(
        label or source, endpoint, pacer=pacer, policy=policy, timeout_seconds=timeout_seconds, **options
    )


class _RedactSecrets(logging.Filter):
    """urllib3 logs every request's URL at DEBUG, query string (an api_key, say) included."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = redact(message, self.secrets), None
        return True


def hide_in_urllib3_logs(secrets: list[str]) -> None:
    target = logging.getLogger("urllib3.connectionpool")
    known = {s for f in target.filters if isinstance(f, _RedactSecrets) for s in f.secrets}
    new = [s for s in secrets if s not in known]
    if new:
        target.addFilter(_RedactSecrets(new))


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
