"""OpenMLResource: the OpenML JSON API client, configured for a run."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.http_resources import SourceHttpResource
from dataset_catalog.openml.client import OpenMLClient, connect_openml


class OpenMLResource(SourceHttpResource):
    """OpenML's API, paced at `requests_per_second` across every call, thread and process.

    `api_key` is optional (public datasets need none); unset means `$OPENML_API_KEY`, read when
    a run uses the resource (an unset `dg.EnvVar` would fail the run), and never logged.
    `endpoint` is the API base (…/api/v1); unset means `$DATASET_CATALOG_OPENML_ENDPOINT`, else
    https://www.openml.org/api/v1.
    """

    requests_per_second: float = Field(default=2.0, gt=0, description="Pace of all OpenML HTTP requests.")
    endpoint: str | None = Field(default=None, description="API base URL (…/api/v1); unset = env or www.openml.org.")
    api_key: str | None = Field(default=None, description="Overrides $OPENML_API_KEY (prefer the env var).")
    max_retries: int = Field(
        default=4, ge=0, le=10, description="Retries on 5xx, timeouts, dropped connections; as many 429s waited out."
    )
    max_retry_after_seconds: float = Field(
        default=300.0, ge=0, description="A 429 asking to wait longer than this fails the run instead."
    )
    page_size: int = Field(default=5_000, ge=1, le=10_000, description="Datasets per listing page.")

    def get_client(self) -> OpenMLClient:
        return connect_openml(
            self.endpoint,
            self.api_key,
            requests_per_second=self.requests_per_second,
            request_timeout_seconds=self.request_timeout_seconds,
            policy=self.retry_policy(
                max_rate_limit_waits=self.max_retries, max_retry_after_seconds=self.max_retry_after_seconds
            ),
            page_size=self.page_size,
        )


defs = dg.Definitions(resources={"openml": OpenMLResource()})
