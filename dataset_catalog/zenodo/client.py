"""The OAI-PMH `ListRecords` walk of one time window, through oaipmh-scythe.

oaipmh-scythe (pinned 0.16.0) builds the requests, follows the resumption tokens and maps OAI-PMH
error codes to exceptions; its HTTP client is given our transport (transport.py, a shim onto
common/http.py: pace, rate-limit headers, retries, deadlines) by overriding its public `client`
property, and its public `harvest` is overridden to parse each page once (its own retries are
replaced by the session's).

A walk whose resumption token died (Zenodo keeps one 2 minutes; a long Retry-After or a stalled
consumer can outlive it) starts the window's list again rather than fail, and skips the records
it already handed out, a bounded number of times.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import httpx2
from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe.config import HTTPConfig, RetryConfig
from oaipmh_scythe.exceptions import BadResumptionToken, NoRecordsMatch, OAIPMHException
from oaipmh_scythe.iterator import OAIResponseIterator
from oaipmh_scythe.response import OAIResponse, XMLParser

from dataset_catalog.common.http import Advice, HttpStats, RetryPolicy, SourceErrors, paced_session
from dataset_catalog.errors import CatalogConfigError
from dataset_catalog.zenodo.transport import (
    ResumptionTokenExpired,
    ZenodoRateLimitError,
    ZenodoResponseError,
    ZenodoTransport,
    ZenodoUnavailableError,
)

ENDPOINT_ENV = "DATASET_CATALOG_ZENODO_ENDPOINT"
TOKEN_ENV = "ZENODO_TOKEN"
DEFAULT_ENDPOINT = "https://zenodo.org/oai2d"
DEFAULT_REQUESTS_PER_MINUTE = 30.0  # Zenodo's documented OAI-PMH limit, with or without a token
DATASETS_SET = "openaire_data"
METADATA_PREFIX = "oai_datacite"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
USER_AGENT = "dataset_catalog (OAI-PMH harvester; oaipmh-scythe)"
DEFAULT_POLICY = RetryPolicy(max_retries=3, max_rate_limit_waits=5, max_retry_after_seconds=600.0)
ADVICE = Advice(
    unavailable="Batches already written are kept; re-run the partition later, or raise the zenodo resource's "
    "request_timeout_seconds / max_retries.",
    rate_limited="Lower the zenodo resource's requests_per_minute (Zenodo allows 30 OAI-PMH requests a minute) "
    "or re-run later; batches already written are kept.",
    retry_after_limit="the zenodo resource's max_wait_seconds",
)

logger = logging.getLogger(__name__)


@dataclass
class OaiPage:
    records: list[Any]  # lxml <record> elements not handed out before in this walk
    complete_list_size: int | None


@dataclass
class WalkStats:
    pages: int = 0
    token_restarts: int = 0
    repeated_records_skipped: int = 0  # records seen again after a restart


class _BearerAuth(httpx2.Auth):
    def __init__(self, token: str):
        self._token = token

    def auth_flow(self, request: httpx2.Request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:  # never the token
        return "<bearer token>"


class _ParsedOnce(OAIResponse):
    """An OAIResponse whose XML is parsed once: oaipmh-scythe's own reads it three times a page
    (error check, resumption token, items), ~1 ms each for a 50-record page."""

    @cached_property
    def xml(self):
        return etree.XML(self.http_response.content, parser=XMLParser)


class _CatalogScythe(Scythe):
    def __init__(self, endpoint: str, transport: ZenodoTransport, http_config: HTTPConfig):
        super().__init__(
            endpoint, http_config=http_config, retry_config=RetryConfig(max_retries=0), iterator=OAIResponseIterator
        )
        self._transport = transport

    @property
    def client(self) -> httpx2.Client:
        if self._client is None or self._client.is_closed:
            self._client = httpx2.Client(
                headers={"Accept": "text/xml, application/xml", "User-Agent": self.http_config.user_agent},
                timeout=self.http_config.timeout,
                auth=self.http_config.auth,
                default_encoding=self.http_config.encoding,
                transport=self._transport,
            )
        return self._client

    def harvest(self, query: dict[str, str]) -> OAIResponse:
        """Scythe.harvest, less its retry loop (the transport retries) and with one parse a page."""
        http_response = self.client.get(self.endpoint, params=query)
        response = _ParsedOnce(http_response, params=query)
        response.raise_for_oaipmh_error()
        http_response.raise_for_status()
        return response


def oai_datetime(moment: datetime) -> str:
    """OAI-PMH's UTC seconds granularity (Zenodo's)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_identifier(record: Any) -> str | None:
    return record.findtext(f"{OAI}header/{OAI}identifier")


class ZenodoHarvester:
    """Pages of `oai_datacite` records of set `openaire_data` whose datestamp is in a window."""

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        requests_per_minute: float | None = DEFAULT_REQUESTS_PER_MINUTE,
        request_timeout_seconds: float = 60.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_token_restarts: int = 3,
        set_spec: str = DATASETS_SET,
        log: logging.Logger | Any = logger,
    ):
        self.endpoint = endpoint
        self.set_spec = set_spec
        self.max_token_restarts = max_token_restarts
        self.requests_per_minute = requests_per_minute
        self._log = log
        http = paced_session(
            source="zenodo",
            endpoint=endpoint,
            # Slots from a lock file shared by every process: two runs never double the pace.
            requests_per_second=requests_per_minute / 60.0 if requests_per_minute else None,
            policy=policy,
            timeout_seconds=request_timeout_seconds,
            label="Zenodo OAI-PMH",
            secrets=[token],
            errors=SourceErrors(unavailable=ZenodoUnavailableError, rate_limited=ZenodoRateLimitError),
            advice=ADVICE,
        )
        self.transport = ZenodoTransport(http)
        http_config = HTTPConfig(
            timeout=request_timeout_seconds, auth=_BearerAuth(token) if token else None, user_agent=USER_AGENT
        )
        self._scythe = _CatalogScythe(endpoint, self.transport, http_config)
        self.stats = WalkStats()

    @property
    def transport_stats(self) -> HttpStats:
        return self.transport.stats

    def close(self) -> None:
        self._scythe.close()
        self.transport.close()

    def __enter__(self) -> ZenodoHarvester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pages(self, start: datetime | None, end: datetime | None) -> Iterator[OaiPage]:
        """Records with datestamp in [start, end) (None: open), a page at a time. OAI-PMH's `from`
        and `until` are inclusive at second granularity, so `until` is the window's last second."""
        query: dict[str, str | None] = {
            "from_": oai_datetime(start) if start else None,
            "until": oai_datetime(end - timedelta(seconds=1)) if end else None,
        }
        handed_out: set[str] = set()
        while True:
            try:
                yield from self._walk(query, handed_out)
                return
            except (BadResumptionToken, ResumptionTokenExpired) as exc:
                self.stats.token_restarts += 1
                if self.stats.token_restarts > self.max_token_restarts:
                    raise ZenodoUnavailableError(
                        f"Zenodo OAI-PMH at {self.endpoint}: the resumption token expired "
                        f"{self.stats.token_restarts} times in one walk (last: {self._redact(str(exc)) or 'badResumptionToken'}). "
                        f"Batches already written are kept. {self._pace_advice()} so that no wait for "
                        "Zenodo's rate limit outlives a token (Zenodo keeps one 2 minutes), then re-run the partition."
                    ) from None
                self._log.warning(
                    f"Zenodo resumption token expired ({self._redact(str(exc)) or 'badResumptionToken'}): starting the "
                    f"window's list again ({self.stats.token_restarts}/{self.max_token_restarts}), skipping the "
                    f"{len(handed_out)} records already taken"
                )

    def _walk(self, query: dict[str, str | None], handed_out: set[str]) -> Iterator[OaiPage]:
        responses = self._scythe.list_records(metadata_prefix=METADATA_PREFIX, set_=self.set_spec, **query)
        while True:
            try:
                response = next(responses)
            except StopIteration:
                return
            except NoRecordsMatch:  # an empty window: an OAI-PMH error, not an empty list
                return
            except (BadResumptionToken, ResumptionTokenExpired):
                raise
            except OAIPMHException as exc:
                raise ZenodoResponseError(
                    f"Zenodo OAI-PMH at {self.endpoint} answered {type(exc).__name__}: "
                    f"{self._redact(str(exc))[:200]}. Check the zenodo resource's endpoint and set."
                ) from None
            except httpx2.HTTPStatusError as exc:
                raise ZenodoResponseError(
                    f"Zenodo OAI-PMH at {self.endpoint} answered HTTP {exc.response.status_code}. Check the zenodo "
                    "resource's endpoint (DATASET_CATALOG_ZENODO_ENDPOINT)."
                ) from None
            root = response.xml
            if root is None:
                raise ZenodoResponseError(f"Zenodo OAI-PMH at {self.endpoint} sent a page that is not XML.")
            self.stats.pages += 1
            records = []
            for record in root.iterfind(f"{OAI}ListRecords/{OAI}record"):
                identifier = record_identifier(record)
                if identifier is not None:
                    if identifier in handed_out:
                        self.stats.repeated_records_skipped += 1
                        continue
                    handed_out.add(identifier)
                records.append(record)
            size = root.find(f"{OAI}ListRecords/{OAI}resumptionToken")
            complete = size.get("completeListSize") if size is not None else None
            yield OaiPage(records, int(complete) if complete and complete.isdigit() else None)

    def _redact(self, text: str) -> str:
        return self.transport.http.redact(text)

    def _pace_advice(self) -> str:
        """What to do with this resource's own pace: the fix when tokens keep dying."""
        allowed = f"Zenodo allows {DEFAULT_REQUESTS_PER_MINUTE:g}"
        if self.requests_per_minute is None:
            return f"Set the zenodo resource's requests_per_minute (now unset: unpaced; {allowed})"
        return f"Lower the zenodo resource's requests_per_minute (now {self.requests_per_minute:g}; {allowed})"


def resolve_endpoint(override: str | None = None) -> str:
    """The OAI-PMH base URL: the resource's field, else `$DATASET_CATALOG_ZENODO_ENDPOINT`, else Zenodo's."""
    endpoint = (override or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).strip()
    if not endpoint.startswith(("http://", "https://")):
        raise CatalogConfigError(
            f"The Zenodo OAI-PMH endpoint must be an http(s) URL such as {DEFAULT_ENDPOINT}, got {endpoint[:100]!r}: "
            f"fix {ENDPOINT_ENV} or the zenodo resource's endpoint."
        )
    return endpoint


def open_harvester(
    token: str | None = None, endpoint: str | None = None, *, log: Callable | Any = logger, **options: Any
) -> ZenodoHarvester:
    """A harvester of `endpoint` (see resolve_endpoint) as `token` (None: `$ZENODO_TOKEN`, else anonymous)."""
    token = token or os.environ.get(TOKEN_ENV) or None
    return ZenodoHarvester(resolve_endpoint(endpoint), token, log=log, **options)
