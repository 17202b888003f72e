"""Phase 2 `kaggle_enriched_datasets` on SQLite and PostgreSQL, against the fake Kaggle API."""

from __future__ import annotations

import threading
from datetime import timedelta

import dagster as dg
import pytest

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.enrichment_log import log_rows
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog.kaggle.enrichment import KAGGLE_QUEUE
from dataset_catalog_tests.fakes.http import Trickle
from dataset_catalog_tests.fakes.kaggle_api import make_datasets
from dataset_catalog_tests.kaggle.conftest import assert_paced


def seed_rows(store: CatalogStore, fake, count: int) -> list[str]:
    """Rows as the Meta Kaggle seed writes them (pending, counts, no files), from the fake's datasets."""
    made = make_datasets(fake, count)
    store.upsert_datasets(
        [
            {
                "source": "kaggle",
                "external_id": d.ref,
                "title": f"seed title {i}",
                "like_count": d.votes,
                "download_count": d.downloads,
                "description": "from Meta Kaggle",
                "enrichment_status": "pending",
            }
            for i, d in enumerate(made)
        ],
        insert_only={"enrichment_status"},
    )
    return [d.ref for d in made]


def by_ref(store: CatalogStore) -> dict[str, dict]:
    return {r["external_id"]: r for r in store.fetch_datasets("kaggle")}


def materialize(database_url, resource: KaggleResource, raise_on_error=True, instance=None, **config):
    return dg.materialize(
        [kaggle_enriched_datasets],
        resources={"kaggle": resource, "catalog": CatalogResource(database_url=database_url)},
        run_config=dg.RunConfig(ops={"kaggle_enriched_datasets": {"config": config}}),
        raise_on_error=raise_on_error,
        instance=instance,
    )


def step_error(result):
    """The user-code error under Dagster's DagsterExecutionStepExecutionError wrapper."""
    error = result.get_step_failure_events()[0].step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return error


def metadata_of(result) -> dict:
    mat = result.asset_materializations_for_node("kaggle_enriched_datasets")[0]
    return {k: v.value for k, v in mat.metadata.items()}


def test_enriches_most_popular_first_with_api_values(database_url, store, kaggle_resource, kaggle_env):
    refs = seed_rows(store, kaggle_env, 5)
    # Same votes as the top dataset but more downloads: it goes first.
    kaggle_env.datasets[refs[3]].votes = 1000
    store.upsert_datasets([{"source": "kaggle", "external_id": refs[3], "like_count": 1000, "download_count": 99_999}])
    kaggle_env.add_file(refs[0], "more.json", b"{}" * 10, columns=["a", "z"])

    result = materialize(database_url, kaggle_resource, batch_size=3)

    meta = metadata_of(result)
    assert (meta["enriched"], meta["failed"], meta["rate_limited"], meta["remaining_pending"]) == (3, 0, 0, 2)
    assert meta["dagster/row_count"] == 5
    fetched = [b["ownerSlug"] + "/" + b["datasetSlug"] for b in kaggle_env.bodies("GetDatasetMetadata")]
    assert fetched == [refs[3], refs[0], refs[1]]
    rows = by_ref(store)
    top = rows[refs[0]]
    assert top["enrichment_status"] == "enriched" and top["last_enriched_at"] is not None
    assert top["description"] == "Dataset number 0, with columns a and b."
    assert top["tags"] == ["tabular", "topic-0"]
    assert top["license"] == "CC0: Public Domain" and top["usability_rating"] == 0.75
    assert top["file_formats"] == ["csv", "parquet", "json"]
    assert top["column_names"] == ["a", "b", "c", "z"]
    assert top["size_bytes"] == 8 + 4 + 20
    assert [(f["name"], f["format"], f["rows"]) for f in top["files"]] == [
        ("train.csv", "csv", None),
        ("extra.parquet", "parquet", None),
        ("more.json", "json", None),
    ]
    assert sum(f["bytes"] for f in top["files"]) == top["size_bytes"] and top["source_meta"]["kaggle_file_count"] == 3
    assert top["creators"] == [{"name": refs[0].split("/")[0], "kind": "person"}]
    assert (top["load_code"], top["load_language"]) == (f"kaggle datasets download -d {refs[0]}", "shell")
    assert (top["enrichment_attempts"], top["enrichment_claimed_by"]) == (1, None)
    assert {rows[r]["enrichment_status"] for r in (refs[2], refs[4])} == {"pending"}
    log = log_rows(store)
    assert [(e["stage"], e["result"], e["attempt"], e["run_id"]) for e in log] == [
        ("api_metadata", "success", 1, result.run_id)
    ] * 3
    assert all(e["duration_ms"] >= 0 and e["error_type"] is None for e in log)


def test_failures_are_isolated_and_become_failed_after_max_attempts(database_url, store, kaggle_resource, kaggle_env):
    refs = seed_rows(store, kaggle_env, 4)
    kaggle_env.failing[refs[0]] = 500  # retried by the client, then counted as one failed attempt
    kaggle_env.malformed.add(refs[2])

    for run in range(1, 4):
        meta = metadata_of(materialize(database_url, kaggle_resource, batch_size=10, max_attempts=3))
        assert meta["failed"] == 2 and meta["enriched"] == (2 if run == 1 else 0)
        assert meta["gave_up"] == (2 if run == 3 else 0)

    rows = by_ref(store)
    assert [rows[r]["enrichment_status"] for r in refs] == ["failed", "enriched", "failed", "enriched"]
    assert rows[refs[0]]["enrichment_attempts"] == 3
    assert "KaggleUnavailableError" in rows[refs[0]]["last_enrichment_error"]
    assert "KaggleResponseError" in rows[refs[2]]["last_enrichment_error"]
    assert all(rows[r]["is_active"] for r in refs)
    failed_log = log_rows(store, rows[refs[0]]["id"])
    assert [(e["result"], e["attempt"], e["error_type"]) for e in failed_log] == [
        ("failed", n, "KaggleUnavailableError") for n in (1, 2, 3)
    ]
    assert "HTTP 500" in failed_log[0]["error_message"]
    # A 4th run finds nothing left to do.
    assert metadata_of(materialize(database_url, kaggle_resource))["claimed"] == 0


def test_404_deactivates_the_dataset(database_url, store, kaggle_resource, kaggle_env):
    refs = seed_rows(store, kaggle_env, 2)
    kaggle_env.not_found.add(refs[1])
    meta = metadata_of(materialize(database_url, kaggle_resource))
    assert (meta["enriched"], meta["deactivated"], meta["remaining_pending"]) == (1, 1, 0)
    gone = by_ref(store)[refs[1]]
    assert (gone["is_active"], gone["enrichment_status"], gone["enrichment_attempts"]) == (False, "failed", 1)
    assert log_rows(store, gone["id"])[0]["error_type"] == "KaggleNotFoundError"


def test_429_stops_the_batch_without_counting_an_attempt(database_url, store, kaggle_resource, kaggle_env):
    refs = seed_rows(store, kaggle_env, 5)
    kaggle_env.request_budget = 2  # metadata + files of the first dataset, then 429
    kaggle_env.retry_after = "30"

    result = materialize(database_url, kaggle_resource, batch_size=5)

    assert result.success
    meta = metadata_of(result)
    assert (meta["enriched"], meta["failed"], meta["rate_limited"]) == (1, 0, 1)
    assert (meta["released"], meta["remaining_pending"], meta["retry_after_seconds"]) == (3, 4, 30.0)
    assert len(kaggle_env.api_requests) == 3  # nothing after the 429
    rows = by_ref(store)
    assert rows[refs[0]]["enrichment_status"] == "enriched"
    for ref in refs[1:]:
        assert rows[ref]["enrichment_status"] == "pending"
        assert (rows[ref]["enrichment_attempts"], rows[ref]["enrichment_claimed_by"]) == (0, None)
    limited = log_rows(store, rows[refs[1]]["id"])
    assert [(e["result"], e["error_type"]) for e in limited] == [("rate_limited", "KaggleRateLimitError")]
    assert all(not log_rows(store, rows[r]["id"]) for r in refs[2:])


def test_concurrent_claims_never_take_the_same_row(database_url, store, fake_kaggle):
    seed_rows(store, fake_kaggle, 40)
    barrier = threading.Barrier(4)
    claimed: dict[str, list[int]] = {}

    def claimer(worker: str):
        own_store = CatalogStore(database_url)
        barrier.wait()
        ids: list[int] = []
        while batch := KAGGLE_QUEUE.claim(own_store, worker, 3, timedelta(hours=1)):
            ids += [c.id for c in batch]
        claimed[worker] = ids

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 40
    rows = store.fetch_datasets("kaggle")
    assert {r["enrichment_status"] for r in rows} == {"in_progress"}
    assert all(r["id"] in claimed[r["enrichment_claimed_by"]] for r in rows)


def test_stale_claims_of_a_killed_run_become_claimable(database_url, store, fake_kaggle):
    seed_rows(store, fake_kaggle, 3)
    first = KAGGLE_QUEUE.claim(store, "killed-run", 2, timedelta(hours=1))
    assert [c.external_id for c in first] == ["owner0/dataset-0", "owner1/dataset-1"]
    assert [c.external_id for c in KAGGLE_QUEUE.claim(store, "next", 5, timedelta(hours=1))] == ["owner2/dataset-2"]
    # Claims older than the timeout are taken over.
    taken_over = KAGGLE_QUEUE.claim(store, "later", 5, timedelta(0))
    assert {c.external_id for c in taken_over} == {"owner0/dataset-0", "owner1/dataset-1", "owner2/dataset-2"}


def test_two_concurrent_materializations_share_the_pace_and_split_the_rows(database_url, store, kaggle_env):
    refs = seed_rows(store, kaggle_env, 6)
    resource = KaggleResource(requests_per_second=10)
    results = []

    def run():
        results.append(materialize(database_url, resource, batch_size=3))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.success for r in results] == [True, True]
    assert sorted(metadata_of(r)["enriched"] for r in results) == [3, 3]
    assert [r["enrichment_status"] for r in by_ref(store).values()] == ["enriched"] * 6
    log = log_rows(store)
    assert sorted(e["dataset_id"] for e in log) == sorted(r["id"] for r in by_ref(store).values())
    assert {e["run_id"] for e in log} == {r.run_id for r in results}
    assert len(kaggle_env.api_requests) == 12
    assert_paced(kaggle_env.api_requests, 10)
    assert {b["datasetSlug"] for b in kaggle_env.bodies("GetDatasetMetadata")} == {r.split("/")[1] for r in refs}


def test_missing_credentials_fail_the_run_clearly_and_leave_rows_pending(database_url, store, fake_kaggle):
    seed_rows(store, fake_kaggle, 2)
    result = materialize(database_url, KaggleResource(endpoint=fake_kaggle.url), raise_on_error=False)
    assert not result.success
    failure = step_error(result)
    assert failure.cls_name == "CredentialsError"
    assert "KAGGLE_USERNAME" in failure.message and "KAGGLE_API_TOKEN" in failure.message
    assert {r["enrichment_status"] for r in store.fetch_datasets("kaggle")} == {"pending"}
    assert fake_kaggle.requests == []


@pytest.mark.parametrize("failure", ["rejected_key", "errors_in_batch"])
def test_the_key_never_appears_in_logs_metadata_or_errors(
    failure, database_url, store, kaggle_resource, kaggle_env, monkeypatch, caplog, capfd
):
    refs = seed_rows(store, kaggle_env, 3)
    secret = kaggle_env.key
    if failure == "rejected_key":
        secret = "secret-but-wrong-key-42"
        monkeypatch.setenv("KAGGLE_KEY", secret)
    else:
        kaggle_env.failing[refs[0]] = 503
        kaggle_env.malformed.add(refs[1])
        kaggle_env.not_found.add(refs[2])
    with dg.instance_for_test() as instance:
        result = materialize(database_url, kaggle_resource, raise_on_error=False, instance=instance)
        assert result.success == (failure != "rejected_key")
        texts = [str(e) for e in instance.all_logs(result.run_id)]
        texts += [str(e.dagster_event) for e in instance.all_logs(result.run_id) if e.dagster_event]
    texts += [caplog.text, *capfd.readouterr()]
    texts += [str(e) for e in log_rows(store)] + [str(r) for r in store.fetch_datasets("kaggle")]
    if result.success:
        texts.append(str(metadata_of(result)))
        assert len(log_rows(store)) == 3
    else:
        texts.append(str(result.get_step_failure_events()[0].step_failure_data.error))
        assert step_error(result).cls_name == "CredentialsError" and "KAGGLE_KEY" in texts[-1]
        # The run failed on the first call; its claims were handed back.
        assert {(r["enrichment_status"], r["enrichment_claimed_by"]) for r in store.fetch_datasets("kaggle")} == {
            ("pending", None)
        }
    assert all(secret not in text for text in texts)


# -- the circuit breaker and the time budget -------------------------------------------------
def outage_resource() -> KaggleResource:
    return KaggleResource(requests_per_second=200, retry_backoff_seconds=0.01, request_timeout_seconds=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("outage", ["5xx", "trickle"])
def test_an_outage_fails_the_run_and_charges_no_row(database_url, store, kaggle_env, outage):
    """Before the breaker every claimed row got an attempt per outage run: after 3 hourly runs
    the most popular datasets were `failed` for good, and every run reported success."""
    refs = seed_rows(store, kaggle_env, 5)
    if outage == "5xx":
        kaggle_env.fail_next(503, times=10_000)
    else:
        kaggle_env.trickle = Trickle("headers", 0.05)
    for _ in range(3):
        result = materialize(database_url, outage_resource(), raise_on_error=False, batch_size=5, max_attempts=3)
        assert not result.success
        failure = result.get_step_failure_events()[0].step_failure_data
        assert "Kaggle unavailable" in failure.error.message and "Re-run when Kaggle answers" in failure.error.message
        assert failure.user_failure_data.metadata["source_unavailable"].value is True
        assert failure.user_failure_data.metadata["put_back"].value == 2  # two datasets in a row, then stop
        assert failure.user_failure_data.metadata["released"].value == 3
    rows = by_ref(store)
    assert [(rows[r]["enrichment_status"], rows[r]["enrichment_attempts"]) for r in refs] == [("pending", 0)] * 5
    logged = log_rows(store)
    assert {e["result"] for e in logged} == {"unavailable"} and len(logged) == 6
    # Bounded: at most 2 datasets x 4 tries per run, not 5 x 4 x the timeout. (On a loaded machine
    # a dataset's call deadline can end before its 4th try: seen once as 23 of 24.)
    assert 3 * 2 <= len(kaggle_env.calls("GetDatasetMetadata")) <= 3 * 2 * 4
    kaggle_env.trickle = None
    kaggle_env._failures.clear()
    assert metadata_of(materialize(database_url, outage_resource(), batch_size=5))["enriched"] == 5


def test_a_failure_of_the_last_dataset_alone_is_judged_by_a_listing(database_url, store, kaggle_env):
    refs = seed_rows(store, kaggle_env, 2)
    kaggle_env.failing[refs[1]] = 500  # the least voted: claimed last, nothing after it
    meta = metadata_of(materialize(database_url, outage_resource(), batch_size=2, max_attempts=3))
    assert (meta["enriched"], meta["failed"], meta["put_back"], meta["source_unavailable"]) == (1, 1, 0, False)
    assert by_ref(store)[refs[1]]["enrichment_attempts"] == 1  # Kaggle answered the listing: its own failure
    assert len(kaggle_env.calls("ListDatasets")) == 1


@pytest.mark.slow
def test_a_run_stops_at_its_time_budget_and_releases_the_rest(database_url, store, kaggle_env):
    refs = seed_rows(store, kaggle_env, 6)
    kaggle_env.slow_seconds = 0.3  # each dataset: 2 calls, ~0.6 s
    meta = metadata_of(materialize(database_url, outage_resource(), batch_size=6, max_run_seconds=1))
    assert meta["stop_reason"] == "run time budget of 1 s used up"
    assert 1 <= meta["enriched"] <= 3 and meta["released"] == 6 - meta["enriched"]
    assert sorted(r["enrichment_status"] for r in by_ref(store).values()) == sorted(
        ["enriched"] * meta["enriched"] + ["pending"] * (6 - meta["enriched"])
    )
    assert len(refs) == 6
