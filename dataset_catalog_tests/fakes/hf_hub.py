"""A fake Hugging Face Hub serving `GET /api/datasets` as the real Hub does.

Sorted descending by `sort`, `expand` selects fields, `limit` is the page size (default 1000)
and paging follows `Link: <...&cursor=...>; rel="next"` with every parameter carried along.
Switches inject 429/5xx answers, a stall, and malformed items (added with `add_raw`).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from dataset_catalog_tests.fakes.http import FakeServer, RecordedRequest

DEFAULT_PAGE_SIZE = 1000
SORT_FIELDS = {"lastModified", "createdAt", "downloads", "likes", "trendingScore"}
ALWAYS_RETURNED = ("id", "_id")


def make_hub_item(
    repo_id: str,
    last_modified: datetime,
    *,
    downloads: int = 0,
    likes: int = 0,
    pretty_name: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    license: str | None = None,
) -> dict[str, Any]:
    """An item as the Hub returns it with the expand fields the catalog asks for."""
    card: dict[str, Any] = {}
    if pretty_name:
        card["pretty_name"] = pretty_name
    if license:
        card["license"] = license
    return {
        "_id": f"{abs(hash(repo_id)):024x}"[:24],
        "id": repo_id,
        "author": repo_id.split("/")[0] if "/" in repo_id else None,
        "sha": f"{abs(hash(repo_id + 'sha')):040x}"[:40],
        "createdAt": "2022-03-02T23:29:04.000Z",
        "lastModified": last_modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": downloads,
        "likes": likes,
        "tags": tags if tags is not None else ["task_categories:text-classification", "language:en", "format:parquet"],
        "cardData": card,
        "description": description if description is not None else f"Dataset {repo_id}.",
        "trendingScore": 0,
    }


class FakeHub(FakeServer):
    def __init__(self, items: list[dict] | None = None, *, required_token: str | None = None):
        super().__init__()
        self.required_token = required_token
        self._failures: deque[tuple[int, dict[str, str]]] = deque()
        self.stall_seconds: float = 0.0
        self.delay_seconds: float = 0.0  # added to every answer: a slow Hub
        self.default_page_size = DEFAULT_PAGE_SIZE
        self.stall_on_request: int | None = None  # the Nth /api/datasets request (1-based); None = all
        self._state_lock = threading.Lock()
        self._api_requests = 0
        self.set_items(items or [])

    # -- switches -----------------------------------------------------------------------
    def set_items(self, items: list[dict]) -> None:
        self._items = list(items)
        self._encoded: dict[tuple, list[bytes]] = {}
        self._order: dict[str, list[int]] = {}

    def add_raw(self, item: Any, sort_value: str) -> None:
        """Add any JSON value as an item, listed where `sort_value` (a lastModified) puts it."""
        self.set_items(self._items + [{"__raw__": item, "__sort__": sort_value}])

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        for _ in range(times):
            self._failures.append((status, headers or {}))

    def stall(self, seconds: float, on_request: int | None = 1) -> None:
        self.stall_seconds, self.stall_on_request = seconds, on_request

    @property
    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/api/datasets"]

    # -- serving ------------------------------------------------------------------------
    def _sort_value(self, item: dict, sort: str):
        if "__raw__" in item:
            return item["__sort__"] if sort in ("lastModified", "createdAt") else 0
        return item.get(sort) or ""

    def _ordered(self, sort: str) -> list[int]:
        if sort not in self._order:
            self._order[sort] = sorted(
                range(len(self._items)), key=lambda i: self._sort_value(self._items[i], sort), reverse=True
            )
        return self._order[sort]

    def _encoded_items(self, expand: tuple[str, ...]) -> list[bytes]:
        if expand not in self._encoded:
            keep = set(ALWAYS_RETURNED) | set(expand)
            encoded = []
            for item in self._items:
                value = item["__raw__"] if "__raw__" in item else {k: v for k, v in item.items() if k in keep}
                encoded.append(json.dumps(value).encode())
            self._encoded[expand] = encoded
        return self._encoded[expand]

    def handle(self, request: RecordedRequest):
        if request.path != "/api/datasets":
            return 404, {"Content-Type": "application/json"}, b'{"error":"not found"}'
        with self._state_lock:
            self._api_requests += 1
            number = self._api_requests
            failure = self._failures.popleft() if self._failures else None
        if self.stall_seconds and self.stall_on_request in (None, number):
            self.stopping.wait(self.stall_seconds)
        if self.delay_seconds:
            self.stopping.wait(self.delay_seconds)
        if failure:
            status, headers = failure
            return status, {"Content-Type": "application/json", **headers}, b'{"error":"injected failure"}'
        if self.required_token and request.headers.get("authorization") != f"Bearer {self.required_token}":
            return 401, {"Content-Type": "application/json"}, b'{"error":"Invalid credentials"}'
        q = request.query
        sort = (q.get("sort") or ["lastModified"])[0]
        if sort not in SORT_FIELDS:
            return 400, {"Content-Type": "application/json"}, b'{"error":"invalid sort"}'
        expand = tuple(
            sorted(
                q.get("expand", [])
                or [
                    "author",
                    "createdAt",
                    "downloads",
                    "lastModified",
                    "likes",
                    "tags",
                    "private",
                    "gated",
                    "disabled",
                    "sha",
                ]
            )
        )
        page_size = min(int((q.get("limit") or [self.default_page_size])[0]), DEFAULT_PAGE_SIZE)
        offset = int(base64.urlsafe_b64decode((q.get("cursor") or ["MA=="])[0]).decode())
        order = self._ordered(sort)
        encoded = self._encoded_items(expand)
        chunk = order[offset : offset + page_size]
        body = b"[" + b",".join(encoded[i] for i in chunk) + b"]"
        headers = {"Content-Type": "application/json"}
        if offset + page_size < len(order):
            params = [(k, v) for k, vs in q.items() if k != "cursor" for v in vs]
            params.append(("cursor", base64.urlsafe_b64encode(str(offset + page_size).encode()).decode()))
            headers["Link"] = f'<{self.url}/api/datasets?{urlencode(params)}>; rel="next"'
        return 200, headers, body


def day_items(day: datetime, count: int, prefix: str = "org/ds") -> list[dict]:
    """`count` items spread over one UTC day, starting exactly at midnight."""
    step = timedelta(days=1) / max(count, 1)
    return [make_hub_item(f"{prefix}-{day:%Y%m%d}-{i}", day + step * i) for i in range(count)]
