"""The Hub's paged `/api/datasets` listing, through huggingface_hub.

Paging (Link cursors) and retries (429/5xx, with backoff) are huggingface_hub's own. We call
its pager with a per-read timeout, because `HfApi.list_datasets` passes none and a silent server
would otherwise block a run for ever, and give each page, the library's retries included, a
whole-call deadline (`give_up_seconds`, common/deadlines.py): a Hub that trickles bytes, or
stalls on every retry (60 s x 6 tries), ends the walk with our error instead of holding the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import build_hf_headers
from huggingface_hub.utils._pagination import _paginate_pages  # pinned huggingface_hub==2.4.0

from dataset_catalog.common.deadlines import Deadline, DeadlineExceeded, call_with_deadline
from dataset_catalog.errors import CatalogConfigError, CredentialsError, SourceUnavailableError, redact

DEFAULT_GIVE_UP_SECONDS = 300.0

# Everything the mapping reads; `siblings` (file lists) is left out: large and unused here.
LIST_EXPAND = (
    "author",
    "cardData",
    "citation",
    "createdAt",
    "description",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "likes",
    "private",
    "sha",
    "tags",
    "trendingScore",
    "usedStorage",
)


class HubListing:
    """Pages of raw dataset items, newest `lastModified` first."""

    def __init__(
        self,
        api: HfApi,
        token: str | None,
        request_timeout_seconds: float,
        page_size: int | None,
        give_up_seconds: float = DEFAULT_GIVE_UP_SECONDS,
    ):
        self.api = api
        self._token = token
        self.request_timeout_seconds = request_timeout_seconds
        self.page_size = page_size
        self.give_up_seconds = give_up_seconds

    @property
    def url(self) -> str:
        return f"{self.api.endpoint}/api/datasets"

    def pages(self) -> Iterator[list]:
        params: dict = {"sort": "lastModified", "expand": list(LIST_EXPAND)}
        if self.page_size:
            params["limit"] = self.page_size
        headers = build_hf_headers(token=self._token, library_name="dataset_catalog")
        pager = _paginate_pages(self.url, params=params, headers=headers, timeout=self.request_timeout_seconds)
        number = 0
        while True:
            number += 1
            try:
                page, _finished = call_with_deadline(
                    lambda _: next(pager), Deadline(self.give_up_seconds, f"Page {number} of {self.url}")
                )
            except StopIteration:
                return
            except DeadlineExceeded as exc:
                raise SourceUnavailableError(
                    f"Hugging Face Hub listing: {exc} Batches already written are kept; re-run the partition "
                    "later, or raise the huggingface resource's give_up_seconds."
                ) from None
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else "?"
                if status in (401, 403):
                    raise CredentialsError(
                        f"Hugging Face Hub at {self.url} rejected the request (HTTP {status}): check HF_TOKEN "
                        "(or the huggingface resource's token), or unset it to list anonymously."
                    ) from None
                raise SourceUnavailableError(
                    self._redact(
                        f"Hugging Face Hub listing at {self.url} failed with HTTP {status} after "
                        f"huggingface_hub's retries: {exc.server_message or exc}. Batches already "
                        "written are kept; re-run the partition later (set HF_TOKEN for a higher rate limit)."
                    )
                ) from None
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                # No connection at all (no DNS, refused, dropped SYNs): most often a machine
                # without internet access, where a mirror is the way to the Hub.
                raise SourceUnavailableError(
                    self._redact(
                        f"Could not reach the Hugging Face Hub at {self.url} after huggingface_hub's retries "
                        f"({type(exc).__name__}: {exc}). Without internet access, set HF_ENDPOINT to a Hub mirror "
                        "(or the huggingface resource's endpoint); otherwise check the network and re-run the "
                        "partition. Batches already written are kept."
                    )
                ) from None
            except httpx2.TimeoutException:
                raise SourceUnavailableError(
                    f"Hugging Face Hub at {self.url} did not answer within {self.request_timeout_seconds:g} s "
                    "(after retries). Batches already written are kept; re-run later, or raise "
                    "the resource's request_timeout_seconds."
                ) from None
            except (httpx2.HTTPError, ValueError) as exc:
                raise SourceUnavailableError(
                    self._redact(f"Hugging Face Hub listing at {self.url} failed: {type(exc).__name__}: {exc}")
                ) from None
            if not isinstance(page, list):
                raise SourceUnavailableError(
                    f"Hugging Face Hub at {self.url} returned a {type(page).__name__} instead of a list of datasets."
                )
            yield page

    def _redact(self, text: str) -> str:
        return redact(text, [self._token])


def open_hub_listing(
    token: str | None = None,
    endpoint: str | None = None,
    request_timeout_seconds: float = 60.0,
    page_size: int | None = None,
    give_up_seconds: float = DEFAULT_GIVE_UP_SECONDS,
) -> HubListing:
    """The listing of the Hub at `endpoint` (None: huggingface_hub's default, which honours
    `HF_ENDPOINT` for mirrors and local servers), as `token` (None: `$HF_TOKEN`, else
    huggingface_hub's own lookup: the cached login, or anonymous with a lower rate limit)."""
    token = token or os.environ.get("HF_TOKEN") or None
    api = HfApi(endpoint=endpoint, token=token, library_name="dataset_catalog")
    if page_size is not None and page_size < 1:
        raise CatalogConfigError(
            f"The Hub listing's page_size must be a positive number of items, got {page_size}; unset it for "
            "the Hub's default (1000)."
        )
    return HubListing(api, token, request_timeout_seconds, page_size, give_up_seconds)
