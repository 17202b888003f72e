"""Daily maintenance schedules (UTC). Default states are deliberate: each says why below."""

from __future__ import annotations

import dagster as dg

from dataset_catalog.defs.maintenance.assets import catalog_health, dataset_link_status, remove_old_cache

link_check_job = dg.define_asset_job("link_check_job", selection=[dataset_link_status])
cache_cleanup_job = dg.define_asset_job("cache_cleanup_job", selection=[remove_old_cache])
# Every asset check of every source, and the day's catalog_health numbers; no source is synced.
catalog_checks_job = dg.define_asset_job(
    "catalog_checks_job", selection=dg.AssetSelection.all_asset_checks() | dg.AssetSelection.assets(catalog_health)
)

# Off by default: it sends requests to the Hub and Kaggle; an operator turns it on after choosing
# per-host limits, like the source syncs. 03:00, after the 00:30 Hub sync.
link_check_daily_schedule = dg.ScheduleDefinition(
    name="link_check_daily",
    job=link_check_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

# On by default: it only touches the local cache dir and never files in use, and a full disk
# is the failure an operator notices last.
cache_cleanup_daily_schedule = dg.ScheduleDefinition(
    name="cache_cleanup_daily",
    job=cache_cleanup_job,
    cron_schedule="30 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# On by default: it reads the catalog only; the freshness check is what tells an operator the sync
# is not running, and catalog_health's daily numbers are what the UI plots.
catalog_checks_daily_schedule = dg.ScheduleDefinition(
    name="catalog_checks_daily",
    job=catalog_checks_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

maintenance_jobs = [link_check_job, cache_cleanup_job, catalog_checks_job]
maintenance_schedules = [link_check_daily_schedule, cache_cleanup_daily_schedule, catalog_checks_daily_schedule]
