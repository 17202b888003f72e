"""A fake OpenML API speaking the real JSON wire format under `/api/v1/json/`.

- `data/list/{filter}/{value}/...`: path-segment filters `status` (default active; `all`),
  `limit`, `offset` (needs `limit`: 412 code 373), `data_id` (comma list). Items as the real
  listing sends them: `did`, `version`, `file_id` as numbers, qualities as text ("150.0").
  **An empty page is HTTP 412 `{"error": {"code": "372", "message": "No results"}}`.**
- `data/{id}` -> `data_set_description` (every value text, a single tag as a bare string, as
  the XML-converted JSON does), `data/qualities/{id}`, `data/features/{id}`; unknown ids 412
  code 111 (as OpenML answers).
- `?api_key=` is checked when `required_api_key` is set (412 code 103 otherwise).

Switches: `fail_next` (429 + Retry-After, 5xx, for the next requests matching a path part),
`stall` (the Nth request, or every one), `delay_seconds`, malformed listing items
(`add_raw_listing_item`) and detail bodies (`raw_bodies`). Every request is recorded
(`requests`, `list_requests`, `detail_requests`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from dataset_catalog_tests.fakes.http import FakeServer, RecordedRequest

PREFIX = "/api/v1/json/"
JSON = {"Content-Type": "application/json; charset=utf-8"}


@dataclass
class FakeDataset:
    did: int
    name: str
    version: int = 1
    status: str = "active"
    description: str = "A **tabular** dataset for tests."
    licence: str = "Public"
    creator: str | list[str] = "Jane Doe"
    upload_date: str = "2014-04-06T23:19:24"
    default_target: str = "class"
    tags: list[str] = field(default_factory=lambda: ["uci"])
    columns: list[tuple[str, str]] = field(
        default_factory=lambda: [("a", "numeric"), ("b", "nominal"), ("class", "nominal")]
    )
    instances: int = 150
    classes: int = 3
    missing: int = 0
    data_revision: int = 0  # bump to change the md5 checksum (a re-uploaded file)
    list_qualities: bool = True  # False: the listing carries no qualities for it

    @property
    def md5(self) -> str:
        return hashlib.md5(f"{self.did}-{self.version}-{self.data_revision}".encode()).hexdigest()

    def qualities(self) -> list[dict[str, str]]:
        values = {
            "NumberOfInstances": self.instances,
            "NumberOfFeatures": len(self.columns),
            "NumberOfClasses": self.classes,
            "NumberOfMissingValues": self.missing,
            "NumberOfInstancesWithMissingValues": min(self.missing, self.instances),
            "NumberOfNumericFeatures": sum(t == "numeric" for _, t in self.columns),
            "NumberOfSymbolicFeatures": sum(t == "nominal" for _, t in self.columns),
        }
        return [{"name": k, "value": f"{float(v):.1f}"} for k, v in values.items()]

    def listing_item(self) -> dict[str, Any]:
        item = {
            "did": self.did,
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "format": "ARFF",
            "md5_checksum": self.md5,
            "file_id": 1_000_000 + self.did,
        }
        if self.list_qualities:
            item["quality"] = self.qualities()
        if self.tags:
            item["tags"] = list(self.tags)
        return item

    def description_json(self) -> dict[str, Any]:
        return {
            "data_set_description": {
                "id": str(self.did),
                "name": self.name,
                "version": str(self.version),
                "description": self.description,
                "description_version": "1",
                "format": "ARFF",
                "creator": self.creator,
                "upload_date": self.upload_date,
                "licence": self.licence,
                "url": f"https://api.openml.org/data/v1/download/{1_000_000 + self.did}/{self.name}.arff",
                "parquet_url": f"https://data.openml.org/datasets/0000/{self.did:04d}/dataset_{self.did}.pq",
                "file_id": str(1_000_000 + self.did),
                "default_target_attribute": self.default_target,
                "version_label": str(self.version),
                "citation": "Doe, J. (2014).",
                # XML converted to JSON: one tag is a bare string, several a list
                "tag": self.tags[0] if len(self.tags) == 1 else list(self.tags),
                "visibility": "public",
                "status": self.status,
                "processing_date": "2020-11-20 19:02:18",
                "md5_checksum": self.md5,
            }
        }

    def features_json(self) -> dict[str, Any]:
        features = [
            {
                "index": str(i),
                "name": name,
                "data_type": kind,
                "is_target": "true" if name == self.default_target else "false",
                "is_ignore": "false",
                "is_row_identifier": "false",
                "number_of_missing_values": "0",
            }
            for i, (name, kind) in enumerate(self.columns)
        ]
        return {"data_features": {"feature": features}}

    def qualities_json(self) -> dict[str, Any]:
        return {"data_qualities": {"quality": self.qualities()}}


def make_datasets(count: int, start: int = 1, **options: Any) -> list[FakeDataset]:
    return [FakeDataset(did, f"dataset-{did}", **options) for did in range(start, start + count)]


def _error(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return 412, JSON, json.dumps({"error": {"code": code, "message": message}}).encode()


class FakeOpenML(FakeServer):
    def __init__(self, datasets: list[FakeDataset] | None = None, *, required_api_key: str | None = None):
        super().__init__()
        # One TCP segment per answer: with Nagle on, headers and body in two writes meet the
        # client's delayed ACK and every request costs 40 ms on loopback.
        self.server.RequestHandlerClass.disable_nagle_algorithm = True
        self.datasets: dict[int, FakeDataset] = {d.did: d for d in datasets or []}
        self.required_api_key = required_api_key
        self.raw_listing_items: list[Any] = []  # malformed items, listed after the datasets
        self.left_out_of_pages: set[int] = set()  # datasets a paged listing skips (asked for by id, they are there)
        self.raw_bodies: dict[str, bytes] = {}  # path after /json/ -> body served instead (200)
        self.delay_seconds = 0.0
        self._failures: deque[tuple[str, int, dict[str, str]]] = deque()
        self._stall: tuple[float, int | None, str] | None = None
        self._stall_seen = 0
        self._count_lock = threading.Lock()
        self._count = 0
        self.answered: list[int] = []  # the status of every answer, in order
        # Listing items encoded once (benchmarks list 100k); tests change datasets in place, so off by default.
        self.cache_listing = False
        self._encoded: dict[int, bytes] = {}

    # -- switches -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base, as DATASET_CATALOG_OPENML_ENDPOINT takes it."""
        return super().url + "/api/v1"

    def add(self, *datasets: FakeDataset) -> None:
        for dataset in datasets:
            self.datasets[dataset.did] = dataset
            self._encoded.pop(dataset.did, None)

    def add_raw_listing_item(self, item: Any) -> None:
        self.raw_listing_items.append(item)

    def fail_next(
        self, status: int, times: int = 1, headers: dict[str, str] | None = None, path_part: str = ""
    ) -> None:
        """The next `times` requests whose path contains `path_part` get `status` (and headers)."""
        for _ in range(times):
            self._failures.append((path_part, status, headers or {}))

    def stall(self, seconds: float, on_request: int | None = 1, path_part: str = "") -> None:
        """Hold the `on_request`-th request (1-based, counted from now; None: every one) whose path
        contains `path_part` for `seconds` before answering."""
        with self._count_lock:
            self._stall, self._stall_seen = (seconds, on_request, path_part), 0

    @property
    def list_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(PREFIX + "data/list/")]

    @property
    def detail_requests(self) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith(PREFIX + "data/") and not r.path.startswith(PREFIX + "data/list/")
        ]

    # -- serving ----------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        answer = self._answer(request)
        with self._count_lock:
            self.answered.append(answer[0])
        return answer

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        path = request.path
        with self._count_lock:
            self._count += 1
            stall = None
            if self._stall and self._stall[2] in path:
                self._stall_seen += 1
                if self._stall[1] in (None, self._stall_seen):
                    stall = self._stall[0]
            failure = None
            for i, (part, status, headers) in enumerate(self._failures):
                if part in path:
                    failure = (status, headers)
                    del self._failures[i]
                    break
        if stall:
            self.stopping.wait(stall)
        if self.delay_seconds:
            self.stopping.wait(self.delay_seconds)
        if failure:
            status, headers = failure
            return status, {**JSON, **headers}, b'{"error":{"code":"999","message":"injected failure"}}'
        if not path.startswith(PREFIX):
            return 404, JSON, b'{"error":"not found"}'
        if self.required_api_key and (request.query.get("api_key") or [None])[0] not in (None, self.required_api_key):
            return _error("103", "Authentication failed")
        call = path[len(PREFIX) :].strip("/")
        if call in self.raw_bodies:
            return 200, JSON, self.raw_bodies[call]
        parts = call.split("/")
        if parts[:2] == ["data", "list"]:
            return self._list(parts[2:])
        if len(parts) == 2 and parts[0] == "data" and parts[1].isdigit():
            return self._detail(int(parts[1]), "description_json")
        if len(parts) == 3 and parts[0] == "data" and parts[1] in ("features", "qualities") and parts[2].isdigit():
            return self._detail(int(parts[2]), f"{parts[1]}_json")
        return 404, JSON, b'{"error":"not found"}'

    def _detail(self, did: int, kind: str) -> tuple[int, dict[str, str], bytes]:
        dataset = self.datasets.get(did)
        if dataset is None:
            return _error("111", "Unknown dataset")
        return 200, JSON, json.dumps(getattr(dataset, kind)()).encode()

    def _list(self, segments: list[str]) -> tuple[int, dict[str, str], bytes]:
        filters = dict(zip(segments[::2], segments[1::2]))
        if "offset" in filters and "limit" not in filters:
            return _error("373", "Offset requires limit")
        status = filters.get("status", "active")
        ids = {int(i) for i in filters["data_id"].split(",") if i.isdigit()} if "data_id" in filters else None
        chosen = [
            d
            for did, d in sorted(self.datasets.items())
            if (status == "all" or d.status == status)
            and (ids is None or did in ids)
            and (ids is not None or did not in self.left_out_of_pages)
        ]
        encoded = [(self._encoded.get(d.did) if self.cache_listing else None) or self._encode(d) for d in chosen]
        if ids is None:
            encoded += [json.dumps(item).encode() for item in self.raw_listing_items]
        offset, limit = int(filters.get("offset", 0)), int(filters.get("limit", 10_000))
        page = encoded[offset : offset + limit]
        if not page:
            return _error("372", "No results")
        return 200, JSON, b'{"data":{"dataset":[' + b",".join(page) + b"]}}"

    def _encode(self, dataset: FakeDataset) -> bytes:
        self._encoded[dataset.did] = encoded = json.dumps(dataset.listing_item()).encode()
        return encoded
