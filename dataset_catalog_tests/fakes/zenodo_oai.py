"""A fake Zenodo OAI-PMH endpoint (`GET /oai2d?verb=ListRecords`) speaking real OAI-PMH 2.0 XML.

Records are `oai_datacite` (DataCite kernel-4 payloads, HTML descriptions, IsVersionOf links to the
concept DOI), listed in datestamp order, filtered by `set` and the inclusive `from`/`until`, 50 a page.
Paging is by resumptionToken with `expirationDate` (default lifetime 120 s, as Zenodo); a dead or
unknown token is an OAI-PMH `badResumptionToken` error with HTTP 422, an empty window
`noRecordsMatch`. A sliding-window rate limit (Zenodo's: 30 a minute) sends `X-RateLimit-*` on every
answer and 429 + Retry-After beyond it. Switches: injected failures (429 + Retry-After, 5xx; once or from
the Nth request on), a stall, tokens announced dead or refused early, malformed records (`raw_record`), a required token.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from dataset_catalog_tests.fakes.http import FakeServer, RecordedRequest

PAGE_SIZE = 50
DATASETS_SET = "openaire_data"
_XML_HEAD = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n<?xml-stylesheet type=\"text/xsl\" href=\"/static/xsl/oai2.xsl\"?>\n"
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FakeRecord:
    recid: int
    datestamp: datetime
    sets: tuple[str, ...]
    xml: bytes


def make_zenodo_record(
    recid: int,
    datestamp: datetime,
    *,
    concept_recid: int | None = None,
    title: str | None = None,
    description: str | None = None,
    keywords: tuple[str, ...] = ("machine learning", "benchmark"),
    license: str | None = "cc-by-4.0",
    access: str = "openAccess",
    creators: tuple[tuple[str, str | None, str | None], ...] = (("Doe, Jane", "0000-0002-1825-0097", "CERN"),),
    publication_date: str = "2024-01-15",
    resource_type: tuple[str, str] = ("Dataset", "Dataset"),
    version: str | None = None,
    sizes: tuple[str, ...] = (),
    formats: tuple[str, ...] = (),
    language: str | None = "eng",
    sets: tuple[str, ...] = (DATASETS_SET,),
    deleted: bool = False,
) -> FakeRecord:
    """One record as Zenodo's oai_datacite serialises it."""
    datestamp = datestamp.astimezone(UTC).replace(microsecond=0)
    set_specs = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in sets)
    status = ' status="deleted"' if deleted else ""
    header = f"<header{status}><identifier>oai:zenodo.org:{recid}</identifier>"
    header += f"<datestamp>{_z(datestamp)}</datestamp>{set_specs}</header>"
    if deleted:
        return FakeRecord(recid, datestamp, sets, f"<record>{header}</record>".encode())
    title = title if title is not None else f"Dataset {recid}"
    description = description if description is not None else f"<p>Measurements of <strong>record {recid}</strong>.</p>"
    people = ""
    for name, orcid, affiliation in creators:
        people += f'<creator><creatorName nameType="Personal">{escape(name)}</creatorName>'
        if orcid:
            people += f'<nameIdentifier nameIdentifierScheme="ORCID" schemeURI="http://orcid.org/">{escape(orcid)}</nameIdentifier>'
        if affiliation:
            people += f"<affiliation>{escape(affiliation)}</affiliation>"
        people += "</creator>"
    related = ""
    if concept_recid is not None:
        related = (
            '<relatedIdentifiers><relatedIdentifier relatedIdentifierType="DOI" relationType="IsVersionOf">'
            f"10.5281/zenodo.{concept_recid}</relatedIdentifier></relatedIdentifiers>"
        )
    rights = f'<rights rightsURI="info:eu-repo/semantics/{access}">{access}</rights>'
    if license:
        rights = (
            f'<rights rightsURI="https://spdx.org/licenses/{escape(license)}" rightsIdentifier={quoteattr(license)} '
            f'rightsIdentifierScheme="spdx">{escape(license)}</rights>' + rights
        )
    resource = (
        '<resource xmlns="http://datacite.org/schema/kernel-4" '
        'xsi:schemaLocation="http://datacite.org/schema/kernel-4 http://schema.datacite.org/meta/kernel-4.3/metadata.xsd">'
        f'<identifier identifierType="DOI">10.5281/zenodo.{recid}</identifier>'
        '<alternateIdentifiers><alternateIdentifier alternateIdentifierType="url">'
        f"https://zenodo.org/records/{recid}</alternateIdentifier></alternateIdentifiers>"
        f"<creators>{people}</creators><titles><title>{escape(title)}</title></titles>"
        f"<publisher>Zenodo</publisher><publicationYear>{publication_date[:4]}</publicationYear>"
        f"<subjects>{''.join(f'<subject>{escape(k)}</subject>' for k in keywords)}</subjects>"
        f'<dates><date dateType="Issued">{escape(publication_date)}</date></dates>'
        + (f"<language>{escape(language)}</language>" if language else "")
        + f'<resourceType resourceTypeGeneral="{escape(resource_type[0])}">{escape(resource_type[1])}</resourceType>'
        f"{related}"
        + (f"<sizes>{''.join(f'<size>{escape(s)}</size>' for s in sizes)}</sizes>" if sizes else "")
        + (f"<formats>{''.join(f'<format>{escape(f)}</format>' for f in formats)}</formats>" if formats else "")
        + (f"<version>{escape(version)}</version>" if version else "")
        + f"<rightsList>{rights}</rightsList>"
        f'<descriptions><description descriptionType="Abstract">{escape(description)}</description></descriptions>'
        "</resource>"
    )
    metadata = (
        '<metadata><oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/" '
        'xsi:schemaLocation="http://schema.datacite.org/oai/oai-1.1/ http://schema.datacite.org/oai/oai-1.1/oai.xsd">'
        "<schemaVersion>4.3</schemaVersion><datacentreSymbol>CERN.ZENODO</datacentreSymbol>"
        f"<payload>{resource}</payload></oai_datacite></metadata>"
    )
    return FakeRecord(recid, datestamp, sets, f"<record>{header}{metadata}</record>".encode())


def raw_record(xml: str, datestamp: datetime, recid: int = 0, sets: tuple[str, ...] = (DATASETS_SET,)) -> FakeRecord:
    """Any <record> text, listed where `datestamp` puts it (malformed records)."""
    return FakeRecord(recid, datestamp.astimezone(UTC).replace(microsecond=0), sets, xml.encode())


def day_records(day: datetime, count: int, first_recid: int = 1000, **options) -> list[FakeRecord]:
    """`count` single-version records spread over one UTC day, the first at midnight."""
    step = timedelta(days=1) / max(count, 1)
    return [make_zenodo_record(first_recid + i, day + step * i, **options) for i in range(count)]


def _parse_oai_time(value: str, is_until: bool) -> datetime | None:
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1, seconds=-1) if is_until else day
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


class FakeZenodoOai(FakeServer):
    def __init__(self, records: list[FakeRecord] | None = None, *, required_token: str | None = None):
        super().__init__()
        self.required_token = required_token
        self.page_size = PAGE_SIZE
        self.token_lifetime_seconds = 120.0
        self.error_status = 422  # Zenodo answers OAI-PMH errors with 422
        self.rate_limit: tuple[int, float] | None = (30, 60.0)  # (requests, window seconds); None = none
        self.delay_seconds = 0.0
        self.stall_seconds, self.stall_on_request = 0.0, None
        self.issue_dead_tokens = 0  # the next N tokens are announced already expired
        self.forget_tokens = 0  # the next N tokens look valid but are refused (expired early, server restarted)
        self.fail_from: tuple[int, int] | None = None  # (request number, status): that request and all later fail
        self.answered_bad_token = 0
        self._failures: deque[tuple[int, dict[str, str]]] = deque()
        self._state_lock = threading.Lock()
        self._served: deque[float] = deque()  # time.time() of answers counted by the rate limit
        self._tokens: dict[str, tuple[tuple, int, float]] = {}
        self._lists: dict[tuple, list[int]] = {}
        self._oai_requests = 0
        self.rejected_429 = 0
        self.set_records(records or [])

    # -- switches -----------------------------------------------------------------------
    def set_records(self, records: list[FakeRecord]) -> None:
        with self._state_lock:
            self._records = sorted(records, key=lambda r: (r.datestamp, r.recid))
            self._stamps = [r.datestamp for r in self._records]
            self._lists = {}

    def add_records(self, records: list[FakeRecord]) -> None:
        self.set_records(self._records + list(records))

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        for _ in range(times):
            self._failures.append((status, headers or {}))

    def stall(self, seconds: float, on_request: int | None = 1) -> None:
        self.stall_seconds, self.stall_on_request = seconds, on_request

    @property
    def oai_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/oai2d"]

    # -- serving ------------------------------------------------------------------------
    def _error(self, code: str, message: str, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        return self._envelope(self.error_status, params, f'<error code="{code}">{escape(message)}</error>'.encode())

    def _envelope(self, status: int, params: dict[str, str], body: bytes, headers: dict | None = None):
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in params.items() if k != "resumptionToken")
        request = (
            f"<responseDate>{_z(datetime.now(UTC))}</responseDate><request{attrs}>https://zenodo.org/oai2d</request>"
        )
        return (
            status,
            {"Content-Type": "text/xml; charset=utf-8", **(headers or {})},
            _XML_HEAD + request.encode() + body + b"</OAI-PMH>",
        )

    def _rate_headers(self) -> tuple[bool, dict[str, str]]:
        """(allowed, X-RateLimit-* headers); counts the request when allowed."""
        if self.rate_limit is None:
            return True, {}
        limit, window = self.rate_limit
        now = time.time()
        with self._state_lock:
            while self._served and self._served[0] <= now - window:
                self._served.popleft()
            allowed = len(self._served) < limit
            if allowed:
                self._served.append(now)
            reset = (self._served[0] + window) if self._served else now
            remaining = limit - len(self._served)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(math.ceil(reset - now), 1))
        return allowed, headers

    def handle(self, request: RecordedRequest):
        if request.path != "/oai2d":
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>"
        with self._state_lock:
            self._oai_requests += 1
            number = self._oai_requests
            failure = self._failures.popleft() if self._failures else None
            if failure is None and self.fail_from is not None and number >= self.fail_from[0]:
                failure = (self.fail_from[1], {})
        if self.stall_seconds and self.stall_on_request in (None, number):
            self.stopping.wait(self.stall_seconds)
        if self.delay_seconds:
            self.stopping.wait(self.delay_seconds)
        if failure:
            status, headers = failure
            return (
                status,
                {"Content-Type": "text/html", **headers},
                f"<html><body>Error {status}</body></html>".encode(),
            )
        allowed, rate_headers = self._rate_headers()
        if not allowed:
            self.rejected_429 += 1
            return 429, {"Content-Type": "text/html", **rate_headers}, b"<html><body>Too Many Requests</body></html>"
        if self.required_token and request.headers.get("authorization") != f"Bearer {self.required_token}":
            return (
                401,
                {"Content-Type": "application/json", **rate_headers},
                b'{"message": "Unauthorized", "status": 401}',
            )
        status, headers, body = self._list_records({k: v[0] for k, v in request.query.items()})
        return status, {**headers, **rate_headers}, body

    def _list_records(self, params: dict[str, str]):
        if params.get("verb") != "ListRecords":
            return self._error("badVerb", "Only ListRecords is served by this fake.", params)
        token = params.get("resumptionToken")
        if token is not None:
            if set(params) != {"verb", "resumptionToken"}:
                return self._error("badArgument", "resumptionToken is an exclusive argument.", params)
            with self._state_lock:
                state = self._tokens.get(token)
            if state is None or time.time() > state[2]:
                self.answered_bad_token += 1
                return self._error(
                    "badResumptionToken", "The value of the resumptionToken argument is invalid or expired.", params
                )
            key, offset = state[0], state[1]
        else:
            if params.get("metadataPrefix") != "oai_datacite":
                return self._error("cannotDisseminateFormat", "This fake serves oai_datacite only.", params)
            start = _parse_oai_time(params["from"], False) if "from" in params else datetime.min.replace(tzinfo=UTC)
            until = _parse_oai_time(params["until"], True) if "until" in params else datetime.max.replace(tzinfo=UTC)
            if start is None or until is None or start > until:
                return self._error("badArgument", "Bad from/until.", params)
            key, offset = (params.get("set"), start, until), 0
        indices = self._matching(key)
        if not indices:
            return self._error("noRecordsMatch", "No records match the request.", params)
        chunk = indices[offset : offset + self.page_size]
        body = b"<ListRecords>" + b"".join(self._records[i].xml for i in chunk)
        if offset + self.page_size < len(indices):
            new_token = uuid.uuid4().hex
            with self._state_lock:
                dead = self.issue_dead_tokens > 0
                self.issue_dead_tokens -= 1 if dead else 0
                expires = time.time() + (-1.0 if dead else self.token_lifetime_seconds)
                if self.forget_tokens > 0:
                    self.forget_tokens -= 1
                else:
                    self._tokens[new_token] = (key, offset + self.page_size, expires)
            expiry = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            body += (
                f'<resumptionToken completeListSize="{len(indices)}" cursor="{offset}" '
                f'expirationDate="{expiry}">{new_token}</resumptionToken>'
            ).encode()
        elif offset:
            body += f'<resumptionToken completeListSize="{len(indices)}" cursor="{offset}"/>'.encode()
        return self._envelope(200, params, body + b"</ListRecords>")

    def _matching(self, key: tuple) -> list[int]:
        with self._state_lock:
            if key not in self._lists:
                set_spec, start, until = key
                lo = bisect.bisect_left(self._stamps, start)
                hi = bisect.bisect_right(self._stamps, until)
                self._lists[key] = [i for i in range(lo, hi) if set_spec is None or set_spec in self._records[i].sets]
            return self._lists[key]
