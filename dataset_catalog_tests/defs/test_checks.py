from datetime import UTC, datetime, timedelta

import dagster as dg

from dataset_catalog.catalog.enrichment_log import log_attempts
from dataset_catalog.defs.common.checks import embedding_coverage_check, integrity_checks
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.checks import FRESHNESS_DEADLINE_CRON, hf_checks
from dataset_catalog.defs.huggingface.partitions import hf_daily_partitions
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.defs.kaggle.checks import kaggle_checks
from dataset_catalog_tests.fakes.hf_hub import day_items


def _rows(source, ids, **extra):
    return [{"source": source, "external_id": i, "title": i, "url": f"https://x/{i}", **extra} for i in ids]


def evaluations(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_blocking_integrity_checks_stop_downstream(store, database_url):
    store.upsert_datasets(_rows("huggingface", ["Dup/A", "dup/a"]))

    @dg.asset(name="hf_writer")
    def writer():
        return None

    ran = []

    @dg.asset(deps=[writer])
    def downstream():
        ran.append(True)

    result = dg.materialize(
        [writer, downstream, *integrity_checks(writer, "huggingface")],
        resources={"catalog": CatalogResource(database_url=database_url)},
        raise_on_error=False,
    )
    checks = evaluations(result)
    assert not checks["unique_external_ids"].passed
    assert checks["unique_external_ids"].metadata["duplicated_keys"].value == 1
    assert checks["active_rows_have_title_and_url"].passed
    assert not ran and not result.success  # blocked by the failed blocking check


def test_kaggle_checks_on_a_stand_in_asset(store, database_url):
    store.upsert_datasets(_rows("kaggle", [f"k{i}" for i in range(12)], enrichment_status="pending"))
    ids = [r["id"] for r in store.fetch_datasets()]
    log_attempts(
        store,
        [
            {"dataset_id": i, "stage": "metadata", "result": "failed" if n < 4 else "success", "attempt": 1}
            for n, i in enumerate(ids)
        ],
    )

    @dg.asset(name="kaggle_enriched_datasets")
    def stand_in():
        return None

    def run(config):
        return evaluations(
            dg.materialize(
                [stand_in, *kaggle_checks(stand_in)],
                resources={"catalog": CatalogResource(database_url=database_url)},
                run_config=dg.RunConfig(ops=config),
                raise_on_error=False,
            )
        )

    default = run({})
    assert default["pending_backlog"].passed and default["pending_backlog"].metadata["pending"].value == 12
    assert not default["enrichment_failure_rate"].passed  # 4 / 12 > 0.2
    assert default["enrichment_failure_rate"].metadata["failed"].value == 4
    relaxed = run(
        {
            "kaggle_enriched_datasets_pending_backlog": {"config": {"max_pending": 5}},
            "kaggle_enriched_datasets_enrichment_failure_rate": {"config": {"max_failure_rate": 0.5}},
        }
    )
    assert not relaxed["pending_backlog"].passed and relaxed["enrichment_failure_rate"].passed


def test_embedding_coverage_check_uses_the_supplied_function(database_url):
    @dg.asset(name="dataset_embeddings")
    def embeddings():
        return None

    for embedded, expected in ((95, True), (94, False)):
        check = embedding_coverage_check(embeddings, lambda store, e=embedded: (e, 100))
        result = dg.materialize(
            [embeddings, check], resources={"catalog": CatalogResource(database_url=database_url)}, raise_on_error=False
        )
        evaluation = evaluations(result)["embedding_coverage"]
        assert evaluation.passed is expected and evaluation.metadata["coverage"].value == embedded / 100


def _partition_due(now: datetime, deadline_hour: int) -> str:
    """The daily partition a deadline of `deadline_hour`:00 UTC asks for at `now`: the day before the
    last deadline passed."""
    last_deadline = now.replace(hour=deadline_hour, minute=0, second=0, microsecond=0)
    if now < last_deadline:
        last_deadline -= timedelta(days=1)
    return (last_deadline - timedelta(days=1)).strftime("%Y-%m-%d")


def test_partition_due_before_and_after_the_deadline():
    assert _partition_due(datetime(2026, 12, 3, 1, 52, tzinfo=UTC), 3) == "2026-12-01"
    assert _partition_due(datetime(2026, 12, 3, 3, 0, tzinfo=UTC), 3) == "2026-12-02"


def test_hf_freshness_check_wants_yesterdays_partition(database_url, fake_hub):
    """Dagster's time-partition freshness check: by 03:00 UTC, yesterday's partition. Before 03:00 the
    partition due is the day before yesterday's (the last deadline passed was yesterday at 03:00), so
    the test materializes the one due now, whatever the hour it runs at."""
    due = _partition_due(datetime.now(UTC), deadline_hour=int(FRESHNESS_DEADLINE_CRON.split()[1]))
    assert due in (hf_daily_partitions.get_last_partition_key(), *hf_daily_partitions.get_partition_keys()[-2:])
    old = (datetime.fromisoformat(due) - timedelta(days=5)).strftime("%Y-%m-%d")
    fake_hub.set_items(day_items(datetime.fromisoformat(due).replace(tzinfo=UTC), 3))
    resources = {
        "catalog": CatalogResource(database_url=database_url),
        "huggingface": HuggingFaceResource(endpoint=fake_hub.url),
    }
    with dg.instance_for_test() as instance:
        stale = evaluations(
            dg.materialize([hf_datasets, *hf_checks], resources=resources, partition_key=old, instance=instance)
        )
        assert not stale["freshness_check"].passed
        assert stale["unique_external_ids"].passed and stale["active_rows_have_title_and_url"].passed
        fresh = evaluations(
            dg.materialize([hf_datasets, *hf_checks], resources=resources, partition_key=due, instance=instance)
        )
        assert fresh["freshness_check"].passed
