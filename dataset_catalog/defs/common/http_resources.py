"""SourceHttpResource: the settings every source's HTTP client shares (common/http.py's policy)."""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from dataset_catalog.common.http import RetryPolicy


class SourceHttpResource(dg.ConfigurableResource):
    """Base of a source's resource: how long one try may take, and how failed tries are retried."""

    request_timeout_seconds: float = Field(
        default=60.0, gt=0, description="The longest one try of a call may take, all of it (a trickle too)."
    )
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries on 5xx, timeouts, dropped connections.")
    retry_backoff_seconds: float = Field(default=2.0, ge=0, description="First retry delay; doubles each retry.")

    def retry_policy(self, **rate_limits: Any) -> RetryPolicy:
        """The policy of these fields; `rate_limits`: the source's RetryPolicy fields for 429s."""
        return RetryPolicy(max_retries=self.max_retries, backoff_seconds=self.retry_backoff_seconds, **rate_limits)
