"""ZenodoResource: the OAI-PMH harvester, configured for a run."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from dataset_catalog.zenodo.client import DEFAULT_REQUESTS_PER_MINUTE, ZenodoHarvester, open_harvester


class ZenodoResource(dg.ConfigurableResource):
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
    request_timeout_seconds: float = Field(
        default=60.0, gt=0, description="The longest one try of a request may take, all of it."
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries on 5xx, timeouts, dropped connections.")
    retry_backoff_seconds: float = Field(default=2.0, ge=0, description="First retry delay; doubles each retry.")
    max_rate_limit_waits: int = Field(
        default=5, ge=0, le=50, description="429 answers waited out (Retry-After) per request."
    )
    max_wait_seconds: float = Field(
        default=600.0, gt=0, description="The longest a Retry-After or X-RateLimit-Reset is obeyed."
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
            max_retries=self.max_retries,
            retry_backoff_seconds=self.retry_backoff_seconds,
            max_rate_limit_waits=self.max_rate_limit_waits,
            max_wait_seconds=self.max_wait_seconds,
            max_token_restarts=self.max_token_restarts,
            **options,
        )


defs = dg.Definitions(resources={"zenodo": ZenodoResource()})
