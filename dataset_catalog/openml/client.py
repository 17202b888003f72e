"""OpenMLClient: paced, time-limited calls of OpenML's JSON API (`{endpoint}/json/...`), with our errors.

Plain `requests` rather than the `openml` package: that package would add six dependencies
(minio, pycryptodome, argon2-cffi, liac-arff, xmltodict, ...) to read four JSON documents, talks
XML, keeps its server and cache in module-global config, drops `md5_checksum` from its listing
DataFrame (the one field that tells us a dataset changed) and has neither our pacing nor
Retry-After handling.

Every HTTP request goes through common/http.py's HttpSession: each page, each detail call, each
retry takes a slot of one pacer per (endpoint, pace), shared by threads and processes; each try
must be done within `request_timeout_seconds` as a whole, a trickling server included. 429 waits
for Retry-After (a longer one than `max_retry_after_seconds` fails at once), 5xx / timeouts /
dropped connections back off exponentially; each at most `max_retries` times. OpenML reports
its own errors as HTTP 412 with a JSON `{"error": {"code": ..., "message": ...}}`: code 372 on
a listing means "no results", i.e. the page past the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from dataset_catalog.common.http import Advice, Answer, HttpStats, RetryPolicy, SourceErrors, get_json, paced_session
from dataset_catalog.errors import (
    CredentialsError,
    SourceRateLimitError,
    SourceResponseError,
    SourceUnavailableError,
)

ENDPOINT_ENV = "DATASET_CATALOG_OPENML_ENDPOINT"
API_KEY_ENV = "OPENML_API_KEY"
DEFAULT_ENDPOINT = "https://www.openml.org/api/v1"
NO_RESULTS = "372"  # the listing's "No results": an empty page
AUTH_ERRORS = {"102", "103", "104"}  # authentication failed / invalid or missing key
MAX_PAGES = 1_000  # a server that never says "no results" must not loop us for ever
DEFAULT_POLICY = RetryPolicy(max_retries=4, max_rate_limit_waits=4, max_retry_after_seconds=300.0)


class OpenMLRateLimitError(SourceRateLimitError):
    """OpenML kept answering 429, or asked us to wait longer than we are willing to."""


class OpenMLUnavailableError(SourceUnavailableError):
    """OpenML did not answer usefully (5xx, timeouts, dropped connections), retries included."""


class OpenMLResponseError(SourceResponseError):
    """OpenML answered this one call, but not usefully (an error code, a 4xx, malformed JSON):
    about this call's dataset, not about OpenML as a whole; `.code` is OpenML's error code."""


def resolve_endpoint(override: str | None = None) -> str:
    """The API base (…/api/v1): the resource's field, else `$DATASET_CATALOG_OPENML_ENDPOINT`, else OpenML's."""
    return (override or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")


def resolve_api_key(override: str | None = None) -> str | None:
    return override or os.environ.get(API_KEY_ENV) or None


@dataclass
class ClientStats(HttpStats):
    list_requests: int = 0
    detail_requests: int = 0


class OpenMLClient:
    """Calls of OpenML's JSON API; one instance per run (not shared by threads)."""

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        requests_per_second: float = 2.0,
        request_timeout_seconds: float = 60.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        page_size: int = 5_000,
    ):
        if page_size < 1:
            raise ValueError(f"page_size must be a positive number of datasets, got {page_size}")
        self.endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        self.page_size = page_size
        self.stats = ClientStats()
        self.http = paced_session(
            source="openml",
            endpoint=self.endpoint,
            requests_per_second=requests_per_second,
            policy=policy,
            timeout_seconds=request_timeout_seconds,
            label="OpenML",
            secrets=[api_key],
            errors=SourceErrors(OpenMLUnavailableError, OpenMLRateLimitError, OpenMLResponseError),
            advice=Advice(
                unavailable="Re-run later; rows already written are kept.",
                rate_limited="Lower requests_per_second and re-run later; rows already written are kept.",
                endpoint=f"Check the endpoint ({ENDPOINT_ENV}, or the openml resource's endpoint).",
            ),
            headers={"User-Agent": "dataset_catalog (OpenML sync)", "Accept": "application/json"},
            stats=self.stats,
        )

    def close(self) -> None:
        self.http.close()

    def get_json(self, path: str, what: str) -> Any:
        """The JSON at `{endpoint}/json/{path}`; raises OpenMLResponseError for OpenML's own
        errors (412 and other 4xx: `.code` holds its error code), our errors for the rest."""
        params = {"api_key": self._api_key} if self._api_key else None
        return get_json(self.http, f"{self.endpoint}/json/{path}", what=what, params=params, refused=self._error_of)

    def _error_of(self, answer: Answer, what: str) -> Exception:
        status, code, message = answer.status, None, ""
        try:
            error = orjson.loads(answer.body).get("error") or {}
            code, message = str(error.get("code") or "") or None, str(error.get("message") or "")
        except (orjson.JSONDecodeError, AttributeError):
            pass
        if status in (401, 403) or code in AUTH_ERRORS:
            return CredentialsError(
                f"OpenML rejected the API key during {what} (HTTP {status}, code {code}): check OPENML_API_KEY "
                "(or the openml resource's api_key), or unset it: listing public datasets needs no key."
            )
        detail = self.http.redact(message)[:200]
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
