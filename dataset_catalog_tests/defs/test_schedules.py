import dagster as dg

from dataset_catalog.definitions import defs

# name -> (cron, UTC, default status, target assets or checks).
HF_CHECKS = {
    "hf_datasets:unique_external_ids",
    "hf_datasets:active_rows_have_title_and_url",
    "hf_datasets:freshness_check",
}
KAGGLE_CHECKS = {
    f"kaggle_enriched_datasets:{name}"
    for name in ("unique_external_ids", "active_rows_have_title_and_url", "enrichment_failure_rate", "pending_backlog")
}
ZENODO_CHECKS = {
    f"zenodo_datasets:{n}" for n in ("unique_external_ids", "active_rows_have_title_and_url", "freshness_check")
}
OPENML_CHECKS = {
    f"openml_datasets:{n}" for n in ("unique_external_ids", "active_rows_have_title_and_url", "freshness_check")
}
EXPECTED = {
    # An asset job runs the asset's checks too: the daily sync evaluates them right after writing.
    "hf_datasets_daily": ("30 0 * * *", "STOPPED", {"hf_datasets", *HF_CHECKS}),
    "link_check_daily": ("0 3 * * *", "STOPPED", {"dataset_link_status"}),
    "cache_cleanup_daily": ("30 4 * * *", "RUNNING", {"remove_old_cache"}),
    "catalog_checks_daily": (
        "0 6 * * *",
        "RUNNING",
        HF_CHECKS
        | KAGGLE_CHECKS
        | ZENODO_CHECKS
        | OPENML_CHECKS
        | {"dataset_embeddings:embedding_coverage", "catalog_health"},
    ),
    "kaggle_enrichment_hourly": ("15 * * * *", "STOPPED", {"kaggle_enriched_datasets", *KAGGLE_CHECKS}),
    "kaggle_latest_daily": ("0 2 * * *", "STOPPED", {"kaggle_latest_datasets"}),
    "zenodo_datasets_daily": ("30 1 * * *", "STOPPED", {"zenodo_datasets", *ZENODO_CHECKS}),
    "openml_datasets_weekly": ("0 4 * * 1", "STOPPED", {"openml_datasets", *OPENML_CHECKS}),
    "dataset_clusters_daily": ("30 5 * * *", "STOPPED", {"dataset_clusters"}),
    "dataset_embeddings_every_30_minutes": ("*/30 * * * *", "STOPPED", {"dataset_embedding_units"}),
}


def _targets(repo, schedule) -> set[str]:
    job = repo.get_job(schedule.job_name)
    names = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    names |= {f"{k.asset_key.to_user_string()}:{k.name}" for k in job.asset_layer.asset_graph.asset_check_keys}
    return names


def test_every_schedule_with_cron_default_state_and_target():
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    assert set(schedules) == set(EXPECTED)
    for name, (cron, status, targets) in EXPECTED.items():
        schedule = schedules[name]
        assert schedule.cron_schedule == cron, name
        assert schedule.execution_timezone in (None, "UTC"), name
        assert (schedule.default_status or dg.DefaultScheduleStatus.STOPPED).value == status, name
        assert _targets(repo, schedule) == targets, name
