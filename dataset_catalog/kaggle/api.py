"""kaggle's own `KaggleApi`, wired for the catalog: our credentials, our endpoint, paced HTTP.

This is the one module that touches private names of the pinned kaggle==2.2.5 / kagglesdk
packages; dataset_catalog_tests/kaggle/test_client.py::test_endpoint_override* pins the behaviour:
- `KaggleHttpClient._endpoint`: the base URL. Neither package reads a URL from the
  environment, so `DATASET_CATALOG_KAGGLE_ENDPOINT` is applied here (mirrors, the test fake).
- `KaggleHttpClient._init_session()` / `._session`: to mount our one adapter (common/pacing.py's
  `PacedAdapter`, as HttpSession mounts it), which paces and time-limits every HTTP request
  the library sends, redirects and download bodies included.
- `KaggleApi._load_config` and two `_authenticate_with_*` steps: so `authenticate()` sees only
  the credentials the resource resolved, never a stray kaggle.json or unrelated KAGGLE_* vars.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# `import kaggle` runs `KaggleApi().authenticate()` and prints a help text when that fails
# (it swallows the SystemExit); keep that text out of run logs. Ours authenticates explicitly.
with contextlib.redirect_stdout(io.StringIO()):
    from kaggle.api.kaggle_api_extended import KaggleApi
from kagglesdk.kaggle_client import KaggleClient as SdkClient
from kagglesdk.kaggle_env import KaggleEnv, get_endpoint

from dataset_catalog.common.pacing import PacedAdapter, Pacer

ENDPOINT_ENV = "DATASET_CATALOG_KAGGLE_ENDPOINT"
DEFAULT_ENDPOINT = get_endpoint(KaggleEnv.PROD)  # https://api.kaggle.com


def resolve_endpoint(override: str | None = None) -> str:
    """The API base URL: the resource's field, else `$DATASET_CATALOG_KAGGLE_ENDPOINT`, else Kaggle's."""
    return (override or os.environ.get(ENDPOINT_ENV) or DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class KaggleCredentials:
    """Resolved credentials; `repr` never shows the secrets."""

    username: str | None = None
    key: str | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> list[str | None]:
        return [self.key, self.api_token]


def resolve_credentials(
    username: str | None = None, key: str | None = None, api_token: str | None = None
) -> KaggleCredentials:
    """The given values, else `$KAGGLE_USERNAME` / `$KAGGLE_KEY` / `$KAGGLE_API_TOKEN` (which,
    as for kaggle itself, may name a file holding the token)."""
    token = api_token or os.environ.get("KAGGLE_API_TOKEN") or None
    if token and len(token) < 4096 and "/" in token and Path(token).is_file():
        token = Path(token).read_text().strip() or None
    return KaggleCredentials(
        username=username or os.environ.get("KAGGLE_USERNAME") or None,
        key=key or os.environ.get("KAGGLE_KEY") or None,
        api_token=token,
    )


class CatalogKaggleApi(KaggleApi):
    """A `KaggleApi` whose clients talk to `endpoint` through our one adapter (paced by `pacer`,
    deadline-aware, `on_answer(headers)` told of every answer: HttpSession.observe)."""

    def __init__(
        self,
        credentials: KaggleCredentials,
        endpoint: str,
        pacer: Pacer | None,
        timeout: tuple[float, float],
        on_answer: Callable[[Mapping[str, str]], None] | None = None,
    ):
        # Instance attributes shadow the class-level ones KaggleApi fills from the environment:
        # `--verbose` (from $VERBOSE) would print request headers, Authorization included.
        self.args: list[str] = []
        self.config_values: dict[str, str] = {}
        self._credentials = credentials
        self._endpoint = endpoint
        self._pacer, self._timeout, self._on_answer = pacer, timeout, on_answer

    def _load_config(self) -> None:
        values: dict[str, str] = {}
        if self._credentials.username and self._credentials.key:
            values[self.CONFIG_NAME_USER] = self._credentials.username
            values[self.CONFIG_NAME_KEY] = self._credentials.key
        self.config_values = values

    def _authenticate_with_access_token(self) -> bool:
        token = self._credentials.api_token
        if not token:
            return False
        username = self._introspect_token(token)  # POST /v1/security.OAuthService/IntrospectToken
        if not username:
            return False
        self.config_values[self.CONFIG_NAME_TOKEN] = token
        self.config_values[self.CONFIG_NAME_USER] = username
        return True

    def _authenticate_with_oauth_creds(self) -> bool:
        return False  # ~/.kaggle/credentials.json is not one of the catalog's credential sources

    def build_kaggle_client(self) -> SdkClient:
        client = super().build_kaggle_client()
        http = client.http_client()
        http._endpoint = self._endpoint
        http._init_session()
        if self.CONFIG_NAME_TOKEN not in self.config_values and self.CONFIG_NAME_KEY in self.config_values:
            # Username/key resolved by us: don't let the SDK prefer a token it finds on disk.
            http._session.auth = (self.config_values[self.CONFIG_NAME_USER], self.config_values[self.CONFIG_NAME_KEY])
        adapter = PacedAdapter(self._pacer, self._timeout, self._on_answer)
        http._session.mount("http://", adapter)
        http._session.mount("https://", adapter)
        return client

    def request_url(self, service: str, method: str) -> str:
        """The URL a call goes to (what the endpoint-override test checks)."""
        return self.build_kaggle_client().http_client()._get_request_url(service, method)
