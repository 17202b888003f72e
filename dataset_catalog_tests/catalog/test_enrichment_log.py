from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dataset_catalog.catalog.enrichment_log import log_attempts, outcomes_since


def _rows(source, ids, **extra):
    return [{"source": source, "external_id": i, "title": i, "url": f"https://x/{i}", **extra} for i in ids]


def test_enrichment_log_rows(store):
    store.upsert_datasets(_rows("huggingface", ["e/1"]))
    dataset_id = store.fetch_datasets()[0]["id"]
    log_attempts(
        store,
        [
            {
                "dataset_id": dataset_id,
                "stage": "api_metadata",
                "result": "success",
                "attempt": 1,
                "duration_ms": 5,
                "run_id": "r1",
            }
        ],
    )
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT stage, result, attempt FROM enrichment_log")).all()
    assert [tuple(r) for r in rows] == [("api_metadata", "success", 1)]


def test_outcomes_since_count_one_source_in_the_window(store):
    store.upsert_datasets(_rows("kaggle", ["k1", "k2", "k3"], enrichment_status="pending"))
    store.upsert_datasets(_rows("huggingface", ["h1"], enrichment_status="pending"))
    ids = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
    log_attempts(
        store,
        [
            {"dataset_id": ids["k1"], "stage": "metadata", "result": r, "attempt": 1}
            for r in ["failed", "success", "success", "rate_limited"]
        ]
        + [{"dataset_id": ids["h1"], "stage": "metadata", "result": "failed", "attempt": 1}],
    )
    log_attempts(
        store,
        [
            {
                "dataset_id": ids["k2"],
                "stage": "metadata",
                "result": "failed",
                "attempt": 1,
                "logged_at": datetime.now(UTC) - timedelta(days=3),
            }
        ],
    )
    outcomes = outcomes_since(store, "kaggle", datetime.now(UTC) - timedelta(hours=24))
    assert (outcomes.success, outcomes.failed, outcomes.rate_limited) == (2, 1, 1)
    assert round(outcomes.failure_rate, 3) == 0.333
