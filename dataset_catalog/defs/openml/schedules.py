"""Weekly OpenML sync: the listing has no dates, so every run re-lists everything (a handful of
calls) and fetches details of what changed; OpenML changes slowly, a week is fresh enough."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.openml.assets import openml_datasets

# The run tag lets dagster.yaml's tag_concurrency_limits hold OpenML runs to one, as for Kaggle.
OPENML_RUN_TAGS = {"dataset_catalog/source": "openml"}

openml_datasets_job = dg.define_asset_job("openml_datasets_job", selection=[openml_datasets], tags=OPENML_RUN_TAGS)

# Mondays 04:00 UTC. Off by default, like every source sync: an operator turns syncs on.
openml_datasets_weekly_schedule = dg.ScheduleDefinition(
    name="openml_datasets_weekly",
    cron_schedule="0 4 * * 1",
    target=openml_datasets_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
