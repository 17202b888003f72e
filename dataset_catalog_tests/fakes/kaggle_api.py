"""A fake Kaggle API speaking kagglesdk's RPC wire format.

`POST /v1/datasets.DatasetApiService/{ListDatasets,GetDatasetMetadata,ListDatasetFiles,
DownloadDataset}` and `POST /v1/security.OAuthService/IntrospectToken`, camelCase JSON with
defaults omitted, errors as `{"code": N, "message": ...}` (what kagglesdk turns into
`HTTPError`). Auth is HTTP Basic (username:key) or `Bearer <token>`. DownloadDataset answers
302 to `GET /files/...` as Kaggle does (to its storage), zipped for files registered `zipped=True`.

Switches: a rate limit (429 + Retry-After once requests arrive faster than `min_interval`,
or after a budget of requests), queued failures (5xx, ...), per-dataset 404 / malformed JSON
/ stalls, and `slow_seconds` on every response. Every request is recorded with its arrival time.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from dataset_catalog_tests.fakes.http import FakeServer, RecordedRequest

DATASET_SERVICE = "/v1/datasets.DatasetApiService/"
INTROSPECT = "/v1/security.OAuthService/IntrospectToken"
FILES_PREFIX = "/files/"
JSON = {"Content-Type": "application/json"}
SORT_FIELDS = {
    "DATASET_SORT_BY_HOTTEST": "hotness",
    "DATASET_SORT_BY_VOTES": "voteCount",
    "DATASET_SORT_BY_UPDATED": "lastUpdated",
    "DATASET_SORT_BY_ACTIVE": "lastUpdated",
    "DATASET_SORT_BY_PUBLISHED": "id",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class FakeFile:
    name: str
    content: bytes
    zipped: bool = False
    columns: list[dict[str, Any]] = field(default_factory=list)
    file_type: str | None = None


@dataclass
class FakeDataset:
    ref: str
    title: str
    subtitle: str = ""
    description: str = ""
    votes: int = 0
    downloads: int = 0
    views: int = 0
    hotness: int = 0
    license_name: str = "CC0: Public Domain"
    keywords: list[str] = field(default_factory=list)
    usability: float | None = 0.75
    last_updated: datetime = field(default_factory=lambda: datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    files: list[FakeFile] = field(default_factory=list)
    id: int = 0

    @property
    def owner(self) -> str:
        return self.ref.split("/")[0]

    @property
    def slug(self) -> str:
        return self.ref.split("/")[1]

    def api_dataset(self) -> dict[str, Any]:
        """An ApiDataset as ListDatasets returns it (no description or files in listings)."""
        item = {
            "id": self.id,
            "ref": self.ref,
            "title": self.title,
            "subtitle": self.subtitle,
            "creatorName": self.owner.title(),
            "ownerName": self.owner.title(),
            "ownerRef": self.owner,
            "totalBytes": sum(len(f.content) for f in self.files),
            "url": f"https://www.kaggle.com/datasets/{self.ref}",
            "lastUpdated": iso(self.last_updated),
            "downloadCount": self.downloads,
            "viewCount": self.views,
            "voteCount": self.votes,
            "licenseName": self.license_name,
            "currentVersionNumber": 3,
            "tags": [{"ref": k, "name": k, "fullPath": f"subject > {k}"} for k in self.keywords],
        }
        if self.usability is not None:
            item["usabilityRating"] = self.usability
        return {k: v for k, v in item.items() if v not in (0, "", None, [])}

    def info(self) -> dict[str, Any]:
        info = {
            "datasetId": self.id,
            "datasetSlug": self.slug,
            "ownerUser": self.owner,
            "usabilityRating": self.usability,
            "totalViews": self.views,
            "totalVotes": self.votes,
            "totalDownloads": self.downloads,
            "title": self.title,
            "subtitle": self.subtitle,
            "description": self.description,
            "keywords": self.keywords,
            "licenses": [{"name": self.license_name}],
            "collaborators": [],
            "data": [],
        }
        return {k: v for k, v in info.items() if v not in (0, "", None, [])}

    def api_file(self, f: FakeFile) -> dict[str, Any]:
        return {
            "ref": f"{self.ref}/{f.name}",
            "datasetRef": self.ref,
            "ownerRef": self.owner,
            "name": f.name,
            "creationDate": iso(self.last_updated),
            "fileType": f.file_type or ("." + f.name.rsplit(".", 1)[-1] if "." in f.name else ""),
            "totalBytes": len(f.content),
            "columns": f.columns,
        }


class FakeKaggle(FakeServer):
    def __init__(
        self,
        *,
        username: str = "catalog-bot",
        key: str = "kaggle-key-0123456789abcdef",
        token: str | None = "KGAT_fake_token_0123456789abcdef",
    ):
        super().__init__()
        self.username, self.key, self.token = username, key, token
        self.datasets: dict[str, FakeDataset] = {}
        self.files_page_size_cap = 1000
        # switches
        self.min_interval: float | None = None  # 429 when two API requests arrive closer than this
        self.request_budget: int | None = None  # 429 once this many API requests were served
        self.retry_after = "7"
        self.slow_seconds = 0.0
        self.not_found: set[str] = set()
        self.malformed: set[str] = set()
        self.failing: dict[str, int] = {}  # ref -> HTTP status answered for every call on it
        self.stalls: dict[str, float] = {}  # ref -> seconds to stall its metadata call
        self.listing_body: bytes | None = None  # ListDatasets answers this (200) instead, when set
        self._failures: deque[int] = deque()
        self._state = threading.Lock()
        self._last_api_at: float | None = None
        self._served = 0
        self.rate_limited = 0

    # -- setup ------------------------------------------------------------------------------
    def add_dataset(self, ref: str, title: str | None = None, **fields: Any) -> FakeDataset:
        dataset = FakeDataset(
            ref=ref, title=title or ref.split("/")[1].replace("-", " ").title(), id=len(self.datasets) + 1, **fields
        )
        self.datasets[ref] = dataset
        return dataset

    def add_file(
        self, ref: str, name: str, content: bytes, *, zipped: bool = False, columns: list[str] | None = None
    ) -> FakeFile:
        f = FakeFile(
            name, content, zipped, [{"order": i, "name": c, "type": "String"} for i, c in enumerate(columns or [])]
        )
        self.datasets[ref].files.append(f)
        return f

    def fail_next(self, status: int, times: int = 1) -> None:
        self._failures.extend([status] * times)

    # -- inspection -------------------------------------------------------------------------
    @property
    def api_requests(self) -> list[RecordedRequest]:
        """Everything that counts against Kaggle's rate limit: RPCs and download GETs."""
        return [r for r in self.requests if r.path.startswith(("/v1/", FILES_PREFIX))]

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == DATASET_SERVICE + method]

    def bodies(self, method: str) -> list[dict]:
        return [json.loads(r.body or b"{}") for r in self.calls(method)]

    # -- serving ----------------------------------------------------------------------------
    @staticmethod
    def _error(status: int, message: str, headers: dict[str, str] | None = None):
        return status, {**JSON, **(headers or {})}, json.dumps({"code": status, "message": message}).encode()

    @staticmethod
    def _ok(payload: dict):
        return 200, dict(JSON), json.dumps(payload).encode()

    def _authorized(self, request: RecordedRequest) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            try:
                user, _, key = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return user == self.username and key == self.key
        return bool(self.token) and header == f"Bearer {self.token}"

    def _rate_limit(self, now: float):
        with self._state:
            limited = (self.request_budget is not None and self._served >= self.request_budget) or (
                self.min_interval is not None
                and self._last_api_at is not None
                and now - self._last_api_at < self.min_interval
            )
            self._last_api_at = now
            if limited:
                self.rate_limited += 1
                return self._error(429, "Too many requests", {"Retry-After": self.retry_after})
            self._served += 1
            failure = self._failures.popleft() if self._failures else None
        if failure:
            return self._error(failure, "injected failure")
        return None

    def handle(self, request: RecordedRequest):
        if self.slow_seconds:
            self.stopping.wait(self.slow_seconds)
        if request.path.startswith(("/v1/", FILES_PREFIX)):
            limited = self._rate_limit(request.at)
            if limited:
                return limited
        if request.path.startswith(FILES_PREFIX) and request.method == "GET":
            return self._serve_file(request.path[len(FILES_PREFIX) :])
        if request.method != "POST":
            return self._error(405, "POST only")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return self._error(400, "Request body is not JSON")
        if request.path == INTROSPECT:
            active = bool(self.token) and body.get("token") == self.token
            return self._ok({"active": True, "username": self.username} if active else {})
        if not self._authorized(request):
            return self._error(401, "Unauthenticated")
        if not request.path.startswith(DATASET_SERVICE):
            return self._error(404, "No such service")
        method = request.path[len(DATASET_SERVICE) :]
        if method == "ListDatasets":
            if self.listing_body is not None:
                return 200, dict(JSON), self.listing_body
            return self._list_datasets(body)
        ref = f"{body.get('ownerSlug', '')}/{body.get('datasetSlug', '')}"
        if ref in self.failing:
            return self._error(self.failing[ref], "injected per-dataset failure")
        dataset = self.datasets.get(ref)
        if dataset is None or ref in self.not_found:
            return self._error(404, f"Dataset {ref} not found")
        if method == "GetDatasetMetadata":
            if ref in self.stalls:
                self.stopping.wait(self.stalls[ref])
            if ref in self.malformed:
                return 200, dict(JSON), b'{"info": {"datasetId": 1, "title": "trunc'
            return self._ok({"info": dataset.info()})
        if method == "ListDatasetFiles":
            return self._list_files(dataset, body)
        if method == "DownloadDataset":
            return self._download(dataset, body)
        return self._error(404, f"Unknown method {method}")

    def _list_datasets(self, body: dict):
        sort = body.get("sortBy", "DATASET_SORT_BY_HOTTEST")
        if sort not in SORT_FIELDS:
            return self._error(400, f"Invalid sortBy {sort}")
        key = SORT_FIELDS[sort]
        items = sorted(
            self.datasets.values(),
            key=lambda d: (d.api_dataset().get(key) or 0 if key != "hotness" else d.hotness, d.id),
            reverse=True,
        )
        page, size = int(body.get("page") or 1), min(int(body.get("pageSize") or 20), 200)
        chunk = items[(page - 1) * size : page * size]
        more = page * size < len(items)
        return self._ok({"datasets": [d.api_dataset() for d in chunk], "nextPageToken": str(page + 1) if more else ""})

    def _list_files(self, dataset: FakeDataset, body: dict):
        offset = int(body.get("pageToken") or 0)
        size = min(int(body.get("pageSize") or 20), self.files_page_size_cap)
        chunk = dataset.files[offset : offset + size]
        payload: dict[str, Any] = {"datasetFiles": [dataset.api_file(f) for f in chunk]}
        if offset + size < len(dataset.files):
            payload["nextPageToken"] = str(offset + size)
        return self._ok(payload)

    def _download(self, dataset: FakeDataset, body: dict):
        name = body.get("fileName")
        files = {f.name: f for f in dataset.files}
        if not name or name not in files:
            return self._error(404, f"File {name} not found in {dataset.ref}")
        served = name + ".zip" if files[name].zipped else name
        location = f"{self.url}{FILES_PREFIX}{dataset.ref}/{quote(served)}?sig=fake"
        return 302, {"Location": location}, b""

    def _serve_file(self, path: str):
        ref, _, served = unquote(path).rpartition("/")
        dataset = self.datasets.get(ref)
        files = {f.name: f for f in dataset.files} if dataset else {}
        name = served[:-4] if served.endswith(".zip") and served[:-4] in files else served
        f = files.get(name)
        if f is None:
            return 404, {"Content-Type": "text/plain"}, b"no such object"
        if served != name:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(name, f.content)
            return 200, {"Content-Type": "application/zip"}, buffer.getvalue()
        return (
            200,
            {"Content-Type": "application/octet-stream", "Last-Modified": "Thu, 02 Jan 2025 03:04:05 GMT"},
            f.content,
        )


def make_datasets(fake: FakeKaggle, count: int, prefix: str = "owner") -> list[FakeDataset]:
    """`count` datasets with two files each; votes fall with the index (index 0 most popular)."""
    made = []
    for i in range(count):
        d = fake.add_dataset(
            f"{prefix}{i % 3}/dataset-{i}",
            description=f"Dataset number {i}, with columns a and b.",
            votes=1000 - i,
            downloads=10_000 - i,
            views=50_000 - i,
            hotness=i,
            keywords=["tabular", f"topic-{i % 4}"],
            last_updated=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i),
        )
        fake.add_file(d.ref, "train.csv", b"a,b\n1,2\n", columns=["a", "b"])
        fake.add_file(d.ref, "extra.parquet", b"PAR1", columns=["c"])
        made.append(d)
    return made
