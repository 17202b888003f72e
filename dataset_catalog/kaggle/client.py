"""KaggleClient: paced, time-limited Kaggle API calls with our own errors.

Each call of the kaggle library runs through common/http.py's HttpSession: every HTTP request
(authentication, each page, each retry, download bodies) takes a slot of one pacer per endpoint
and pace, shared by threads and processes; each try must be done within
`request_timeout_seconds` as a whole, a server that trickles included (a download may take longer
while it keeps `min_download_bytes_per_second`); 5xx, timeouts, trickles and dropped connections
get a bounded retry with exponential backoff. 429 is never retried here: the caller decides
(enrichment stops its batch).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import requests
from kagglesdk.datasets.types.dataset_api_service import (
    ApiDataset,
    ApiDatasetFile,
    ApiDownloadDatasetRequest,
    ApiGetDatasetMetadataRequest,
)
from kagglesdk.datasets.types.dataset_types import DatasetInfo

from dataset_catalog.common.cache_lock import pid_alive
from dataset_catalog.common.deadlines import Deadline, current_deadline, guarded_chunks
from dataset_catalog.common.http import Advice, HttpSession, RetryPolicy, SourceErrors, paced_session
from dataset_catalog.errors import (
    CredentialsError,
    DatasetCatalogError,
    SourceRateLimitError,
    SourceUnavailableError,
)
from dataset_catalog.kaggle.api import CatalogKaggleApi, KaggleCredentials, resolve_endpoint

T = TypeVar("T")
SORT_ORDERS = ("hottest", "votes", "updated", "active", "published")
FILES_PAGE_SIZE = 100
MAX_PAGES = 10_000  # a server repeating page tokens must not loop us forever
# A 429 is never waited out: every further call would be refused too (enrichment stops its batch).
DEFAULT_POLICY = RetryPolicy(max_retries=3, backoff_seconds=2.0, max_rate_limit_waits=0)
_PART_NAME = re.compile(r"\.(\d+)-[0-9a-f]{8}(?:\.unzip)?\.part$")  # .<name>.<pid>-<id>[.unzip].part
CREDENTIALS_HELP = (
    "Set KAGGLE_USERNAME and KAGGLE_KEY (from kaggle.json, 'Create New Token' on "
    "https://www.kaggle.com/settings) or KAGGLE_API_TOKEN in the environment of the Dagster "
    "code location."
)


class KaggleRateLimitError(SourceRateLimitError):
    """Kaggle answered 429; `retry_after` is its Retry-After in seconds, if it sent one."""


class KaggleNotFoundError(DatasetCatalogError):
    """The dataset (or file) does not exist, or is no longer public."""


class KaggleResponseError(SourceUnavailableError):
    """Kaggle answered this call, but not usefully (malformed JSON, an error message, a 4xx):
    about this call's dataset, not about Kaggle as a whole."""


class KaggleUnavailableError(SourceUnavailableError):
    """Kaggle did not answer (5xx, timeouts, trickles, dropped connections), retries included."""


def split_ref(ref: str) -> tuple[str, str]:
    owner, _, slug = (ref or "").strip().partition("/")
    if not owner or not slug or "/" in slug:
        raise ValueError(f"A Kaggle dataset ref is 'owner/slug', got {ref!r}")
    return owner, slug


@dataclass(frozen=True)
class DatasetPage:
    datasets: list[ApiDataset]
    next_page_token: str


class KaggleClient:
    """Thin, typed calls on top of `KaggleApi`; one instance may be shared by threads."""

    def __init__(
        self,
        api: CatalogKaggleApi,
        http: HttpSession,
        *,
        min_download_bytes_per_second: float = 64 * 1024,
    ):
        self.api = api
        self.http = http
        self.endpoint = http.endpoint
        self.request_timeout_seconds = http.timeout_seconds
        self.min_download_bytes_per_second = min_download_bytes_per_second

    # -- plumbing -------------------------------------------------------------------------
    def authenticate(self) -> KaggleClient:
        try:
            self._call("authentication", self.api.authenticate)
        except SystemExit:  # kaggle's authenticate() ends in exit(1) when nothing works
            raise CredentialsError(
                f"No usable Kaggle credentials (an API token was rejected, or none is set). {CREDENTIALS_HELP}"
            ) from None
        return self

    def _redact(self, text: str) -> str:
        return self.http.redact(text)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn()` (calls of the kaggle library) under the session's policy; Kaggle's answers that
        are not worth trying again become our errors."""
        try:
            return self.http.call(what, fn)
        except requests.HTTPError as exc:  # not a 429 or 5xx: the policy handles those
            status = exc.response.status_code if exc.response is not None else None
            detail = self._redact(str(exc))[:300]
            if status == 404:
                raise KaggleNotFoundError(f"Kaggle has no {what} (HTTP 404): {detail}") from None
            if status in (401, 403):
                raise CredentialsError(
                    f"Kaggle rejected the credentials during {what} (HTTP {status}). {CREDENTIALS_HELP}"
                ) from None
            raise KaggleResponseError(f"Kaggle {what} failed with HTTP {status}: {detail}") from None
        except requests.exceptions.JSONDecodeError:
            raise KaggleResponseError(f"Kaggle returned malformed JSON for {what}.") from None
        except (TypeError, ValueError) as exc:
            # kagglesdk's from_json/from_dict raise these on bodies of the wrong shape.
            raise KaggleResponseError(
                f"Kaggle returned an unusable response for {what}: {self._redact(str(exc))[:200]}"
            ) from None

    # -- calls ----------------------------------------------------------------------------
    def list_datasets(self, sort_by: str = "updated", page: int = 1, page_size: int = 20) -> DatasetPage:
        """One page of public datasets in `sort_by` order (hottest, votes, updated, active, published)."""
        if sort_by not in SORT_ORDERS:
            raise ValueError(f"sort_by must be one of {', '.join(SORT_ORDERS)}; got {sort_by!r}")
        response = self._call(
            f"dataset listing page {page}",
            lambda: self.api.dataset_list_with_response(sort_by=sort_by, page=page, page_size=page_size),
        )
        return DatasetPage(list(response.datasets or []), response.next_page_token or "")

    def get_dataset_metadata(self, ref: str) -> DatasetInfo:
        owner, slug = split_ref(ref)

        def call() -> DatasetInfo:
            request = ApiGetDatasetMetadataRequest()
            request.owner_slug, request.dataset_slug = owner, slug
            with self.api.build_kaggle_client() as kaggle:
                return kaggle.datasets.dataset_api_client.get_dataset_metadata(request)

        response = self._call(f"metadata of dataset {ref}", call)
        if response.error_message:
            raise KaggleResponseError(f"Kaggle metadata of {ref}: {self._redact(response.error_message)[:300]}")
        if response.info is None:
            raise KaggleResponseError(f"Kaggle metadata of {ref} came without an 'info' object.")
        return response.info

    def list_dataset_files(self, ref: str) -> list[ApiDatasetFile]:
        """Every file of the dataset's current version, following all pages."""
        split_ref(ref)
        files: list[ApiDatasetFile] = []
        token: str | None = None
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            response = self._call(
                f"file list of dataset {ref} (page {page})",
                lambda token=token: self.api.dataset_list_files(ref, page_token=token, page_size=FILES_PAGE_SIZE),
            )
            if response.error_message:
                raise KaggleResponseError(f"Kaggle file list of {ref}: {self._redact(response.error_message)[:300]}")
            files.extend(response.files or [])
            token = response.next_page_token or None
            if not token or token in seen:
                return files
            seen.add(token)
        return files

    def download_file(self, ref: str, file_name: str, dest_dir: Path, force: bool = False) -> Path:
        """Download one file of a dataset into `dest_dir`; returns the (uncompressed) file's path.

        An existing file is kept unless `force`. The bytes go to a hidden temporary name that is
        renamed only when complete, so a stopped download never leaves a file that looks whole;
        temporary files of downloads whose process died are removed first. Kaggle serves large
        files zipped (`name.csv` arrives as `name.csv.zip`): those are extracted.
        """
        owner, slug = split_ref(ref)
        name = Path(file_name).name
        if not name or name != file_name.replace("\\", "/").split("/")[-1]:
            raise ValueError(f"file_name must be a plain file name, got {file_name!r}")
        dest_dir = Path(dest_dir)
        final = dest_dir / name
        if final.exists() and not force:
            return final
        dest_dir.mkdir(parents=True, exist_ok=True)
        remove_parts_of_dead_downloads(dest_dir)
        body, zipped = self._call(
            f"download of {ref}/{file_name}", lambda: self._download_body(owner, slug, file_name, final)
        )
        # Extracting takes as long as it takes: outside the call's deadline.
        unzip_part = body.with_suffix(".unzip.part")
        try:
            if zipped:
                _extract_single(body, final.name, unzip_part)
                os.replace(unzip_part, final)
            else:
                os.replace(body, final)
            return final
        finally:
            for leftover in (body, unzip_part):
                leftover.unlink(missing_ok=True)

    def _download_body(self, owner: str, slug: str, file_name: str, final: Path) -> tuple[Path, bool]:
        """(the whole body in a temporary file next to `final`, whether it is a zip of the file)."""
        request = ApiDownloadDatasetRequest()
        request.owner_slug, request.dataset_slug, request.file_name = owner, slug, file_name
        body = final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        try:
            with self.api.build_kaggle_client() as kaggle:
                response = kaggle.datasets.dataset_api_client.download_dataset(request)
                try:
                    served_name = unquote(urlsplit(response.url).path.rsplit("/", 1)[-1])
                    content_type = response.headers.get("Content-Type", "")
                    zipped = not final.name.endswith(".zip") and (
                        served_name == final.name + ".zip" or "application/zip" in content_type
                    )
                    expected = response.headers.get("Content-Length")
                    written = self._write_stream(response, body)
                finally:
                    response.close()
            if expected is not None and written != int(expected):
                raise requests.exceptions.ChunkedEncodingError(f"got {written} of {expected} bytes")
            return body, zipped
        except BaseException:
            body.unlink(missing_ok=True)
            raise

    def _write_stream(self, response: Any, path: Path) -> int:
        """The body into `path`, as it arrives; given up (DeadlineExceeded) when it stalls for
        request_timeout_seconds or falls below min_download_bytes_per_second after that long."""
        chunks = guarded_chunks(
            lambda: response.raw.read1(1 << 20, decode_content=True),
            current_deadline() or Deadline(self.request_timeout_seconds, "a Kaggle download"),
            stall_seconds=self.request_timeout_seconds,
            min_bytes_per_second=self.min_download_bytes_per_second,
            grace_seconds=self.request_timeout_seconds,
        )
        written = 0
        with open(path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        return written


def remove_parts_of_dead_downloads(folder: Path) -> list[Path]:
    """Delete `.<name>.<pid>-<id>.part` files whose process is gone (a killed run's download)."""
    removed = []
    for part in folder.glob(".*.part"):
        match = _PART_NAME.search(part.name)
        if match and int(match[1]) != os.getpid() and not pid_alive(int(match[1])):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def _extract_single(archive: Path, member_name: str, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            matching = [m for m in members if Path(m.filename).name == member_name]
            member = matching[0] if matching else members[0] if len(members) == 1 else None
            if member is None:
                raise KaggleResponseError(
                    f"Kaggle served {member_name} as a zip without that file (members: "
                    f"{', '.join(m.filename for m in members[:5])})."
                )
            with zf.open(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
    except zipfile.BadZipFile:
        raise KaggleResponseError(f"Kaggle served {member_name} as a zip that can't be read.") from None


def connect_kaggle(
    credentials: KaggleCredentials,
    endpoint: str | None = None,
    *,
    requests_per_second: float = 1.0,
    request_timeout_seconds: float = 60.0,
    min_download_bytes_per_second: float = 64 * 1024,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> KaggleClient:
    """An authenticated client for `endpoint` (None: `$DATASET_CATALOG_KAGGLE_ENDPOINT`, else
    https://api.kaggle.com), paced at `requests_per_second` across every call, thread and
    process; raises CredentialsError naming the variables to set."""
    http = paced_session(
        source="kaggle",
        endpoint=resolve_endpoint(endpoint),
        requests_per_second=requests_per_second,
        policy=policy,
        timeout_seconds=request_timeout_seconds,
        label="Kaggle",
        secrets=credentials.secrets,
        errors=SourceErrors(unavailable=KaggleUnavailableError, rate_limited=KaggleRateLimitError),
        advice=Advice(rate_limited="Lower requests_per_second or wait before the next run."),
    )
    api = CatalogKaggleApi(credentials, http.endpoint, http.pacer, http.timeout, http.observe)
    return KaggleClient(api, http, min_download_bytes_per_second=min_download_bytes_per_second).authenticate()
