"""The terms of common/http.py's sessions: the retry policy, the error types and advice of a
source, the counts a session keeps, and an answer read whole. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dataset_catalog.errors import SourceRateLimitError, SourceResponseError, SourceUnavailableError


@dataclass(frozen=True)
class RetryPolicy:
    """What a failed try of a call leads to."""

    max_retries: int = 3  # tries again after a 5xx, a timeout, a dropped connection, a transient answer
    backoff_seconds: float = 2.0  # before the first of those; doubles each time
    max_backoff_seconds: float = 60.0
    max_rate_limit_waits: int = 5  # 429s waited out per call; 0: a 429 fails the call at once
    max_retry_after_seconds: float = 600.0  # a longer Retry-After fails the call; X-RateLimit holds are cut to it
    give_up_after_seconds: float | None = None  # a call's whole time, waits included (None: tries bound it)
    outage_after_failed_calls: int = 2  # calls in a row failed past their retries: the source is down

    def backoff(self, retry_number: int) -> float:
        return min(self.backoff_seconds * 2**retry_number, self.max_backoff_seconds)


@dataclass(frozen=True)
class SourceErrors:
    """The exception types a session raises: a source's own subclasses of the shared ones."""

    unavailable: type[SourceUnavailableError] = SourceUnavailableError
    rate_limited: type[SourceRateLimitError] = SourceRateLimitError
    response: type[SourceResponseError] = SourceResponseError


@dataclass(frozen=True)
class Advice:
    """What our messages tell the user to do, in the words of the source's resource."""

    unavailable: str = "Re-run later; work already written is kept."
    rate_limited: str = "Lower requests_per_second, or wait before the next run."
    retry_after_limit: str = "max_retry_after_seconds"  # the setting that bounds an obeyed Retry-After
    credentials: str = "Check the source's credentials."
    endpoint: str = "Check the resource's endpoint."


@dataclass
class HttpStats:
    requests: int = 0  # tries sent, retries included
    retries: int = 0  # tries sent again after a failure or a 429
    rate_limited: int = 0  # 429 answers
    rate_limit_waits: int = 0  # holds for X-RateLimit-Reset before a request
    server_errors: int = 0
    timeouts: int = 0
    waited_seconds: float = 0.0  # held back by Retry-After, X-RateLimit-Reset and backoff (not the pace)
    waited_for_retry_after_seconds: float = 0.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


class RetryableAnswer(Exception):
    """Raised by a try whose answer is worth trying again: a 429, a 5xx, or what the caller's
    `transient` check calls transient (a proxy's HTML page instead of the API's answer)."""

    def __init__(self, answer: Answer, reason: str):
        super().__init__(reason)
        self.answer, self.reason = answer, reason


# Module-level (frozen) defaults for the session's parameters.
DEFAULT_POLICY, DEFAULT_ERRORS, DEFAULT_ADVICE = RetryPolicy(), SourceErrors(), Advice()
