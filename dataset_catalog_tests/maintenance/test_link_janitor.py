from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from dataset_catalog.catalog.link_state import LinkOutcome, LinkThresholds, next_state, select_link_batch
from dataset_catalog.catalog.schema import datasets
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.maintenance.assets import dataset_link_status
from dataset_catalog.maintenance.address_guard import AddressPolicy, parse_allow_list
from dataset_catalog.maintenance.http_probe import ProbeSettings
from dataset_catalog.maintenance.janitor import JanitorSettings, run_link_janitor
from dataset_catalog_tests.fakes.link_server import LinkHosts


@pytest.fixture(scope="module")
def hosts():
    with LinkHosts(("127.0.0.1", "127.0.0.2", "127.0.0.3")) as servers:
        yield servers


def add_rows(store, urls: dict[str, str | None]):
    store.upsert_datasets(
        [{"source": "huggingface", "external_id": ext, "title": ext, "url": url} for ext, url in urls.items()]
    )


def state(store) -> dict[str, dict]:
    return {r["external_id"]: r for r in store.fetch_datasets()}


def janitor_settings(**overrides) -> JanitorSettings:
    values = dict(
        probe=ProbeSettings(AddressPolicy(parse_allow_list(["127.0.0.0/8"])), timeout_seconds=0.5),
        thresholds=LinkThresholds(failure_threshold=3, transient_threshold=5),
        batch_size=100,
        concurrency=8,
        per_host_limit=2,
        per_host_interval_seconds=0.0,
    )
    values.update(overrides)
    return JanitorSettings(**values)


def test_state_transitions():
    t = LinkThresholds(failure_threshold=3, transient_threshold=5)
    now = datetime.now(UTC)

    def outcome(status, definitive=False):
        return LinkOutcome(1, status, None, now, definitive)

    assert next_state(True, 2, outcome("broken", True), t) == (False, 3)
    assert next_state(True, 1, outcome("broken", True), t) == (True, 2)
    assert next_state(True, 3, outcome("transient_error"), t) == (True, 4)  # transient: larger threshold
    assert next_state(True, 4, outcome("transient_error"), t) == (False, 5)
    assert next_state(False, 7, outcome("ok"), t) == (True, 0)
    assert next_state(True, 2, outcome("blocked"), t) == (True, 2)
    with pytest.raises(ValueError):
        LinkThresholds(failure_threshold=4, transient_threshold=3)


def test_batch_order_never_checked_first_then_oldest(store):
    add_rows(store, {f"o/{i}": f"http://127.0.0.1:1/{i}" for i in range(5)})
    ids = {r["external_id"]: r["id"] for r in store.fetch_datasets()}
    old = datetime(2024, 1, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(datasets).where(datasets.c.id == ids["o/0"]).values(last_checked_at=old + timedelta(days=2))
        )
        conn.execute(sa.update(datasets).where(datasets.c.id == ids["o/1"]).values(last_checked_at=old))
        conn.execute(
            sa.update(datasets).where(datasets.c.id == ids["o/2"]).values(is_active=False)
        )  # not the janitor's
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.id == ids["o/3"])
            .values(is_active=False, link_failure_count=3, last_checked_at=old + timedelta(days=1))
        )
    batch = [dataset_id for dataset_id, _ in select_link_batch(store, 10, LinkThresholds())]
    assert batch == [ids["o/4"], ids["o/1"], ids["o/3"], ids["o/0"]]
    assert [i for i, _ in select_link_batch(store, 2, LinkThresholds())] == [ids["o/4"], ids["o/1"]]


def test_deactivates_after_repeated_404_and_reactivates_on_success(store, hosts):
    add_rows(
        store,
        {
            "a/ok": hosts.url(0, "ok/a"),
            "a/gone": hosts.url(1, "gone/a"),
            "a/flaky": hosts.url(2, "error/a"),
            "a/nourl": None,
        },
    )
    reports = [run_link_janitor(store, janitor_settings()) for _ in range(3)]
    rows = state(store)
    assert [r.checked for r in reports] == [4, 4, 4]
    assert rows["a/ok"]["link_status"] == "ok" and rows["a/ok"]["link_http_status"] == 200
    assert rows["a/ok"]["last_checked_at"] is not None and rows["a/ok"]["is_active"]
    assert (rows["a/gone"]["link_status"], rows["a/gone"]["link_http_status"]) == ("broken", 404)
    assert rows["a/gone"]["link_failure_count"] == 3 and not rows["a/gone"]["is_active"]
    assert (rows["a/flaky"]["link_status"], rows["a/flaky"]["link_failure_count"]) == ("transient_error", 3)
    assert rows["a/flaky"]["is_active"]  # 5xx counts towards the larger threshold only
    assert rows["a/nourl"]["link_status"] == "invalid" and not rows["a/nourl"]["is_active"]
    assert (reports[2].deactivated, reports[0].deactivated, reports[2].broken) == (2, 0, 2)

    # The page comes back: the next check reactivates the row and resets the count.
    with store.engine.begin() as conn:
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "a/gone").values(url=hosts.url(1, "ok/back")))
    report = run_link_janitor(store, janitor_settings())
    back = state(store)["a/gone"]
    assert report.reactivated == 1
    assert (back["is_active"], back["link_failure_count"], back["link_status"]) == (True, 0, "ok")


def test_asset_reports_metadata_and_stays_within_the_host_limit(database_url, store, hosts):
    add_rows(store, {f"m/{i}": hosts.url(i % 3, f"slow/50/{i}" if i % 2 else f"gone/{i}") for i in range(12)})
    before = dict(hosts.in_flight.max)
    result = dg.materialize(
        [dataset_link_status],
        resources={"catalog": CatalogResource(database_url=database_url)},
        run_config=dg.RunConfig(
            ops={
                "dataset_link_status": {
                    "config": {
                        "allowed_networks": ["127.0.0.0/8"],
                        "per_host_limit": 2,
                        "per_host_interval_seconds": 0.0,
                    }
                }
            }
        ),
    )
    metadata = result.asset_materializations_for_node("dataset_link_status")[0].metadata
    values = {k: getattr(v, "value", v) for k, v in metadata.items()}
    assert (values["checked"], values["ok"], values["broken"], values["transient"]) == (12, 6, 6, 0)
    assert values["deactivated"] == 0 and values["urls_per_second"] > 0
    assert values["max_in_flight_per_host"] <= 2
    assert all(hosts.in_flight.max[h.host] <= 2 for h in hosts.hosts), (before, dict(hosts.in_flight.max))
    assert "failures_sample" in values and values["link_status_totals"] == {"broken": 6, "ok": 6}
    assert sum(1 for r in state(store).values() if r["link_status"] == "broken") == 6


def test_loopback_urls_are_blocked_by_default(database_url, store, hosts):
    add_rows(store, {"p/1": hosts.url(0, "ok/private")})
    result = dg.materialize([dataset_link_status], resources={"catalog": CatalogResource(database_url=database_url)})
    metadata = result.asset_materializations_for_node("dataset_link_status")[0].metadata
    assert metadata["blocked"].value == 1
    row = state(store)["p/1"]
    assert (row["link_status"], row["link_failure_count"], row["is_active"]) == ("blocked", 0, True)
    assert not [r for r in hosts.requests if r.path == "/ok/private"]
