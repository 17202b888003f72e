"""OpenMLClient: paced, time-limited calls of OpenML's JSON API (`{endpoint}/json/...`), with our errors.

Plain `requests` rather than the `openml` package: that package would add six dependencies
(minio, pycryptodome, argon2-cffi, liac-arff, xmltodict, ...) to read four JSON documents, talks
XML, keeps its server and cache in module-global config, drops `md5_checksum` from its listing
DataFrame (the one field that tells us a dataset changed) and has neither our pacing nor
Retry-After handling.

Every HTTP request (each page, each detail call, each retry) takes a slot of one pacer per
(endpoint, pace), shared by threads and processes (common/pacing.py's Pacer). Each try must be
done within `request_timeout_seconds` as a whole, a trickling server included (transport.py). 429 waits for Retry-After (bounded by `max_retry_after_seconds`), 5xx / timeouts /
dropped connections back off exponentially; both at most `max_retries` times. OpenML reports
its own errors as HTTP 412 with a JSON `{"error": {"code": ..., "message": ...}}`: code 372 on
a listing means "no results", i.e. the page past the end.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from dataset_catalog.common.deadlines import DeadlineExceeded
from dataset_catalog.common.pacing import pacer_for, parse_retry_after
from dataset_catalog.errors import CredentialsError, DatasetCatalogError, SourceUnavailableError, redact
from dataset_catalog.openml.transport import ResponseTooLarge, WatchedSession

ENDPOINT_ENV = "DATASET_CATALOG_OPENML_ENDPOINT"
API_KEY_ENV = "OPENML_API_KEY"
DEFAULT_ENDPOINT = "https://www.openml.org/api/v1"
NO_RESULTS = "372"  # the listing's "No results": an empty page
AUTH_ERRORS = {"102", "103", "104"}  # authentication failed / invalid or missing key
MAX_PAGES = 1_000  # a server that never says "no results" must not loop us for ever


class OpenMLRateLimitError(SourceUnavailableError):
    """OpenML kept answering 429, or asked us to wait longer than we are willing to."""


class OpenMLUnavailableError(SourceUnavailableError):
    """OpenML did not answer usefully (5xx, timeouts, dropped connections), retries included."""


class OpenMLResponseError(DatasetCatalogError):
    """OpenML answered this one call, but not usefully (an error code, a 4xx, malformed JSON):
    about this call's dataset, not about OpenML as a whole."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.code = status, code


def resolve_endpoint(override: str | None = None) -> str:
    """The API base (…/api/v1): the resource's field, else `$DATASET_CATALOG_OPENML_ENDPOINT`, else OpenML's."""
    return (override or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")


def resolve_api_key(override: str | None = None) -> str | None:
    return override or os.environ.get(API_KEY_ENV) or None


@dataclass
class ClientStats:
    requests: int = 0  # every HTTP request sent, retries included
    list_requests: int = 0
    detail_requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # 429 answers received
    waited_for_retry_after_seconds: float = 0.0


class _RedactKey(logging.Filter):
    """urllib3 logs every request's URL at DEBUG, query string (and so the api_key) included:
    a deployment logging at DEBUG must not write the key out."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.key in message:
            record.msg, record.args = redact(message, [self.key]), None
        return True


def _hide_in_urllib3_logs(key: str) -> None:
    target = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactKey) and f.key == key for f in target.filters):
        target.addFilter(_RedactKey(key))


class OpenMLClient:
    """Calls of OpenML's JSON API; one instance per run (not shared by threads)."""

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        requests_per_second: float = 2.0,
        request_timeout_seconds: float = 60.0,
        max_retries: int = 4,
        retry_backoff_seconds: float = 2.0,
        max_retry_after_seconds: float = 300.0,
        page_size: int = 5_000,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if page_size < 1:
            raise ValueError(f"page_size must be a positive number of datasets, got {page_size}")
        self.endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        if api_key:
            _hide_in_urllib3_logs(api_key)
        self.pacer = pacer_for("openml", self.endpoint, requests_per_second)
        self.request_timeout_seconds = request_timeout_seconds
        self.max_retries = max_retries
        self.retry_backoff_seconds = retry_backoff_seconds
        self.max_retry_after_seconds = max_retry_after_seconds
        self.page_size = page_size
        self.stats = ClientStats()
        self._sleep = sleep
        self._http = WatchedSession(self.endpoint, "dataset_catalog (OpenML sync)")

    def close(self) -> None:
        self._http.close()

    def _redact(self, text: str) -> str:
        return redact(text, [self._api_key])

    # -- plumbing -------------------------------------------------------------------------
    def _get_once(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """One try, paced: (status, headers, body), read whole within request_timeout_seconds."""
        self.pacer.wait()
        self.stats.requests += 1
        params = {"api_key": self._api_key} if self._api_key else None
        return self._http.get(url, params, self.request_timeout_seconds, f"OpenML GET {url}")

    def get_json(self, path: str, what: str) -> Any:
        """The JSON at `{endpoint}/json/{path}`; raises OpenMLResponseError for OpenML's own
        errors (412 and other 4xx: `.code` holds its error code), our errors for the rest."""
        url = f"{self.endpoint}/json/{path}"
        retry_reason = "?"
        for attempt in range(self.max_retries + 1):
            delay = None
            try:
                status, headers, body = self._get_once(url)
            except DeadlineExceeded:
                retry_reason = f"timeout: no complete answer within {self.request_timeout_seconds:g} s"
            except requests.Timeout:
                retry_reason = f"timeout: no answer within {self.request_timeout_seconds:g} s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                retry_reason = f"connection failure ({type(exc).__name__})"
            except ResponseTooLarge as exc:
                raise OpenMLResponseError(str(exc)) from None
            except requests.RequestException as exc:  # an unusable URL or answer: retrying won't help
                raise OpenMLUnavailableError(
                    f"OpenML {what} at {self.endpoint} failed: {type(exc).__name__}. Check the endpoint "
                    f"({ENDPOINT_ENV}, or the openml resource's endpoint)."
                ) from None
            else:
                if status == 200:
                    try:
                        return orjson.loads(body)
                    except orjson.JSONDecodeError:
                        raise OpenMLResponseError(f"OpenML returned malformed JSON for {what}.", status) from None
                if status == 429:
                    self.stats.rate_limited += 1
                    retry_after = parse_retry_after(headers.get("Retry-After"))
                    if retry_after is not None and retry_after > self.max_retry_after_seconds:
                        raise OpenMLRateLimitError(
                            f"OpenML rate limit hit during {what} (HTTP 429) and it asks us to wait "
                            f"{retry_after:.0f} s, more than max_retry_after_seconds "
                            f"({self.max_retry_after_seconds:g}). Lower requests_per_second and re-run later; "
                            "rows already written are kept."
                        )
                    retry_reason = "HTTP 429 (rate limited)"
                    delay = retry_after
                elif status >= 500:
                    retry_reason = f"HTTP {status}"
                else:
                    raise self._error_of(status, body, what)
            if attempt >= self.max_retries:
                break
            self.stats.retries += 1
            backoff = min(self.retry_backoff_seconds * 2**attempt, 60.0)
            if delay is not None:
                self.stats.waited_for_retry_after_seconds += delay
            self._sleep(backoff if delay is None else delay)
        error = OpenMLRateLimitError if retry_reason.startswith("HTTP 429") else OpenMLUnavailableError
        raise error(
            f"OpenML {what} at {self.endpoint} failed after {self.max_retries + 1} tries ({retry_reason}). "
            "Re-run later; rows already written are kept."
        )

    def _error_of(self, status: int, body: bytes, what: str) -> Exception:
        code, message = None, ""
        try:
            error = orjson.loads(body).get("error") or {}
            code, message = str(error.get("code") or "") or None, str(error.get("message") or "")
        except (orjson.JSONDecodeError, AttributeError):
            pass
        if status in (401, 403) or code in AUTH_ERRORS:
            return CredentialsError(
                f"OpenML rejected the API key during {what} (HTTP {status}, code {code}): check OPENML_API_KEY "
                "(or the openml resource's api_key), or unset it: listing public datasets needs no key."
            )
        detail = self._redact(message)[:200]
        return OpenMLResponseError(f"OpenML {what} failed with HTTP {status} (code {code}): {detail}", status, code)

    # -- calls ----------------------------------------------------------------------------
    def list_page(self, offset: int, limit: int | None = None) -> list[Any] | None:
        """Datasets [offset, offset+limit) of the listing (every status), or None past the end."""
        limit = limit or self.page_size
        self.stats.list_requests += 1
        try:
            body = self.get_json(f"data/list/status/all/limit/{limit}/offset/{offset}", f"listing at offset {offset}")
        except OpenMLResponseError as exc:
            if exc.code == NO_RESULTS:
                return None
            raise OpenMLUnavailableError(f"{exc} The listing can't go on; rows already written are kept.") from None
        data = body.get("data") if isinstance(body, dict) else None
        items = data.get("dataset") if isinstance(data, dict) else None
        if isinstance(items, dict):  # converted from XML: one dataset is an object, not a list
            items = [items]
        if not isinstance(items, list):
            raise OpenMLUnavailableError(
                f"OpenML listing at offset {offset} has no data.dataset list ({str(body)[:120]!r}); "
                "is the endpoint an OpenML API base (…/api/v1)?"
            )
        return items

    def pages(self) -> Iterator[list[Any]]:
        """Every page of the listing, until OpenML answers "no results" (HTTP 412, code 372)."""
        offset = 0
        for _ in range(MAX_PAGES):
            page = self.list_page(offset)
            if page is None or not page:
                return
            yield page
            offset += len(page)
        raise OpenMLUnavailableError(f"OpenML listing did not end after {MAX_PAGES} pages; raise page_size.")

    def list_by_ids(self, dataset_ids: list[int]) -> list[Any]:
        """The listing items of these datasets (any status); [] when none exists any more."""
        self.stats.list_requests += 1
        ids = ",".join(str(i) for i in dataset_ids)
        try:
            body = self.get_json(f"data/list/status/all/data_id/{ids}", f"listing of {len(dataset_ids)} datasets")
        except OpenMLResponseError as exc:
            if exc.code == NO_RESULTS:
                return []
            raise
        data = body.get("data") if isinstance(body, dict) else None
        items = data.get("dataset") if isinstance(data, dict) else None
        return [items] if isinstance(items, dict) else items if isinstance(items, list) else []

    def _detail(self, path: str, key: str, what: str) -> Any:
        self.stats.detail_requests += 1
        body = self.get_json(path, what)
        if not isinstance(body, dict) or key not in body:
            raise OpenMLResponseError(f"OpenML {what} has no '{key}' object.", 200)
        return body[key]

    def description(self, dataset_id: int) -> dict[str, Any]:
        value = self._detail(f"data/{dataset_id}", "data_set_description", f"description of dataset {dataset_id}")
        if not isinstance(value, dict):
            raise OpenMLResponseError(f"OpenML description of dataset {dataset_id} is not an object.", 200)
        return value

    def features(self, dataset_id: int) -> list[Any]:
        value = self._detail(f"data/features/{dataset_id}", "data_features", f"features of dataset {dataset_id}")
        features = value.get("feature") if isinstance(value, dict) else None
        return [features] if isinstance(features, dict) else features if isinstance(features, list) else []

    def qualities(self, dataset_id: int) -> list[Any]:
        value = self._detail(f"data/qualities/{dataset_id}", "data_qualities", f"qualities of dataset {dataset_id}")
        qualities = value.get("quality") if isinstance(value, dict) else None
        return [qualities] if isinstance(qualities, dict) else qualities if isinstance(qualities, list) else []


def connect_openml(
    endpoint: str | None = None,
    api_key: str | None = None,
    **options: Any,
) -> OpenMLClient:
    """A client for `endpoint` (None: `$DATASET_CATALOG_OPENML_ENDPOINT`, else OpenML's), with
    `api_key` (None: `$OPENML_API_KEY`, else anonymous: public datasets need no key)."""
    return OpenMLClient(resolve_endpoint(endpoint), resolve_api_key(api_key), **options)
