"""kaggle's own `KaggleApi`, wired for the catalog: our credentials, our endpoint, paced HTTP.

This is the one module that touches private names of the pinned kaggle==2.2.5 / kagglesdk
packages; dataset_catalog_tests/kaggle/test_client.py::test_endpoint_override* pins the behaviour:
- `KaggleHttpClient._endpoint`: the base URL. Neither package reads a URL from the
  environment, so `DATASET_CATALOG_KAGGLE_ENDPOINT` is applied here (mirrors, the test fake).
- `KaggleHttpClient._init_session()` / `._session`: to mount an adapter that paces and
  time-limits every HTTP request the library sends, redirects and download bodies included.
- urllib3's `HTTPConnection.request` (public, through the adapter's pool classes): the pacer's
  slot is taken there, after the connection is set up and just before the request is written,
  and the connection's socket is registered with the call's deadline (common/deadlines.py).
- `KaggleApi._load_config` and two `_authenticate_with_*` steps: so `authenticate()` sees only
  the credentials the resource resolved, never a stray kaggle.json or unrelated KAGGLE_* vars.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

# `import kaggle` runs `KaggleApi().authenticate()` and prints a help text when that fails
# (it swallows the SystemExit); keep that text out of run logs. Ours authenticates explicitly.
with contextlib.redirect_stdout(io.StringIO()):
    from kaggle.api.kaggle_api_extended import KaggleApi
from kagglesdk.kaggle_client import KaggleClient as SdkClient
from kagglesdk.kaggle_env import KaggleEnv, get_endpoint
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from dataset_catalog.common.deadlines import current_deadline, shut_down
from dataset_catalog.common.pacing import Pacer

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


class _PacedConnection:
    """Mixed into urllib3's connections: each request takes a pacer slot as late as possible,
    once the connection is set up (a slow connect or TLS handshake can't push two requests
    closer than the pace), and a call with a deadline can shut the socket down."""

    pacer: Pacer

    def request(self, *args, **kwargs):
        if self.sock is None:  # HTTPS pools have connected already; a fresh HTTP connection not yet
            self.connect()
        deadline = current_deadline()
        if deadline is not None:
            deadline.on_abort(lambda: shut_down(self.sock))
        self.pacer.wait()
        return super().request(*args, **kwargs)


def _paced_pool_classes(pacer: Pacer) -> dict[str, type]:
    """urllib3 pool classes (per scheme) whose connections take their slots from `pacer`."""
    http = type("PacedHTTPConnection", (_PacedConnection, HTTPConnection), {"pacer": pacer})
    https = type("PacedHTTPSConnection", (_PacedConnection, HTTPSConnection), {"pacer": pacer})
    return {
        "http": type("PacedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("PacedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class PacedAdapter(HTTPAdapter):
    """Paces every HTTP request (see _PacedConnection) and applies a timeout when none is given."""

    def __init__(self, pacer: Pacer, timeout: tuple[float, float]):
        self.pacer = pacer
        self.timeout = timeout
        super().__init__(max_retries=0)  # retries are the client's policy, each one paced

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _paced_pool_classes(self.pacer)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(
            request, stream=stream, timeout=timeout or self.timeout, verify=verify, cert=cert, proxies=proxies
        )


class CatalogKaggleApi(KaggleApi):
    """A `KaggleApi` whose clients talk to `endpoint` through a `PacedAdapter`."""

    def __init__(self, credentials: KaggleCredentials, endpoint: str, pacer: Pacer, timeout: tuple[float, float]):
        # Instance attributes shadow the class-level ones KaggleApi fills from the environment:
        # `--verbose` (from $VERBOSE) would print request headers, Authorization included.
        self.args: list[str] = []
        self.config_values: dict[str, str] = {}
        self._credentials = credentials
        self._endpoint = endpoint
        self._pacer = pacer
        self._timeout = timeout

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
        adapter = PacedAdapter(self._pacer, self._timeout)
        http._session.mount("http://", adapter)
        http._session.mount("https://", adapter)
        return client

    def request_url(self, service: str, method: str) -> str:
        """The URL a call goes to (what the endpoint-override test checks)."""
        return self.build_kaggle_client().http_client()._get_request_url(service, method)
