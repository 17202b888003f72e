"""ZenodoResource: the OAI-PMH harvester, configured for a run."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from dataset_catalog.defs.common.http_resources import SourceHttpResource
from dataset_catalog.zenodo.client import DEFAULT_REQUESTS_PER_MINUTE, ZenodoHarvester, open_harvester


class ZenodoResource(SourceHttpResource):
    """Zenodo's OAI-PMH endpoint.

    `token` is optional (harvesting is anonymous; the OAI-PMH limit is 30 requests a minute either
    way); unset means `$ZENODO_TOKEN`, read when a run harvests, never logged. `endpoint` unset
    means `$DATASET_CATALOG_ZENODO_ENDPOINT`, else https://zenodo.org/oai2d (mirrors, the test fake).
    """

    token: str | None = Field(default=None, description="Zenodo token; unset = $ZENODO_TOKEN if set, else anonymous.")
    endpoint: str | None = Field(default=None, description="OAI-PMH base URL; unset = env or https://zenodo.org/oai2d.")
    requests_per_minute: float | None = Field(
        default=DEFAULT_REQUESTS_PER_MINUTE,
        gt=0,
        description="Pace of all OAI-PMH requests, across processes (Zenodo allows 30/min). Unset = unpaced (tests, benchmarks).",
    )
    max_rate_limit_waits: int = Field(
        default=5, ge=0, le=50, description="429 answers waited out (Retry-After) per request."
    )
    max_wait_seconds: float = Field(
        default=600.0,
        gt=0,
        description="The longest Retry-After obeyed (a longer one fails the run) or X-RateLimit-Reset.",
    )
    max_token_restarts: int = Field(
        default=3, ge=0, le=20, description="Restarts of a window's list after a token expired."
    )

    def harvester(self, log: Any = None) -> ZenodoHarvester:
        options: dict[str, Any] = {"log": log} if log is not None else {}
        return open_harvester(
            self.token,
            self.endpoint,
            requests_per_minute=self.requests_per_minute,
            request_timeout_seconds=self.request_timeout_seconds,
            policy=self.retry_policy(
                max_rate_limit_waits=self.max_rate_limit_waits, max_retry_after_seconds=self.max_wait_seconds
            ),
            max_token_restarts=self.max_token_restarts,
            **options,
        )


defs = dg.Definitions(resources={"zenodo": ZenodoResource()})
