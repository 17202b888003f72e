"""KaggleResource: the Kaggle API client, configured for a run."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.http_resources import SourceHttpResource
from dataset_catalog.kaggle.api import KaggleCredentials, resolve_credentials
from dataset_catalog.kaggle.client import KaggleClient, connect_kaggle


class KaggleResource(SourceHttpResource):
    """The Kaggle API, paced at `requests_per_second` across every call, thread and process.

    Credentials are read from the environment when a run uses the resource (an unset
    `dg.EnvVar` would fail runs that never call Kaggle): `KAGGLE_API_TOKEN`, or
    `KAGGLE_USERNAME` + `KAGGLE_KEY`. The fields override them; leave them unset in
    production so secrets never enter run config. `endpoint` unset means
    `$DATASET_CATALOG_KAGGLE_ENDPOINT`, else https://api.kaggle.com.
    """

    requests_per_second: float = Field(default=1.0, gt=0, description="Pace of all Kaggle HTTP requests.")
    endpoint: str | None = Field(default=None, description="API base URL; unset = env or api.kaggle.com.")
    min_download_kib_per_second: float = Field(
        default=64.0,
        gt=0,
        description="Downloads slower than this on average (after request_timeout_seconds) are given up.",
    )
    username: str | None = Field(default=None, description="Overrides $KAGGLE_USERNAME.")
    key: str | None = Field(default=None, description="Overrides $KAGGLE_KEY (prefer the env var).")
    api_token: str | None = Field(default=None, description="Overrides $KAGGLE_API_TOKEN (prefer the env var).")

    def credentials(self) -> KaggleCredentials:
        return resolve_credentials(self.username, self.key, self.api_token)

    def get_client(self) -> KaggleClient:
        """An authenticated client; raises CredentialsError naming the variables to set."""
        return connect_kaggle(
            self.credentials(),
            self.endpoint,
            requests_per_second=self.requests_per_second,
            request_timeout_seconds=self.request_timeout_seconds,
            min_download_bytes_per_second=self.min_download_kib_per_second * 1024,
            # A 429 is never waited out: every further call would be refused too (see enrichment.py).
            policy=self.retry_policy(max_rate_limit_waits=0),
        )


defs = dg.Definitions(resources={"kaggle": KaggleResource()})
