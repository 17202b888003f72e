"""HuggingFaceResource: the Hub listing, configured for a run."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from dataset_catalog.huggingface.client import DEFAULT_GIVE_UP_SECONDS, HubListing, open_hub_listing


class HuggingFaceResource(dg.ConfigurableResource):
    """Access to the Hugging Face Hub.

    `token` is optional (anonymous listing works, with a lower rate limit); when unset,
    `$HF_TOKEN` applies, else huggingface_hub's own lookup (the cached login). `endpoint`
    unset means huggingface_hub's default, which honours `HF_ENDPOINT` (mirrors, local servers).
    """

    token: str | None = Field(default=None, description="Hub token; unset = $HF_TOKEN if set, else anonymous.")
    endpoint: str | None = Field(default=None, description="Hub URL; default from HF_ENDPOINT or huggingface.co.")
    request_timeout_seconds: float = Field(default=60.0, gt=0, description="Per-read timeout of list calls.")
    give_up_seconds: float = Field(
        default=DEFAULT_GIVE_UP_SECONDS,
        gt=0,
        description="The longest one page of the listing may take, huggingface_hub's retries included; then the run fails.",
    )
    page_size: int | None = Field(default=None, ge=1, description="Items per page; unset = the Hub's default (1000).")

    def listing(self) -> HubListing:
        # The token is read when a run lists, not through dg.EnvVar: an unset EnvVar fails the
        # run, and the token is optional.
        return open_hub_listing(
            self.token, self.endpoint, self.request_timeout_seconds, self.page_size, self.give_up_seconds
        )


defs = dg.Definitions(resources={"huggingface": HuggingFaceResource()})
