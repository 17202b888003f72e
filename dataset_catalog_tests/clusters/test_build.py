"""Clustering runs on a real catalog (both dialects): links and clusters stored, only changed rows
compared again, a rerun or a run killed half way ends with the same clusters."""

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog import clusters as stored
from dataset_catalog.catalog.schema import (
    dataset_apart,
    dataset_cluster_facts,
    dataset_cluster_keys,
    dataset_clusters,
    dataset_links,
)
from dataset_catalog.clusters import build
from dataset_catalog.clusters.build import update_clusters
from dataset_catalog_tests.fakes.copies import COPIES as ROWS

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _ids(store) -> dict[str, int]:
    return {r["external_id"]: r["id"] for r in store.fetch_datasets()}


def _clusters(store) -> dict[int, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(dataset_clusters.c.dataset_id, dataset_clusters.c.cluster_id)).all())


def test_copies_cluster_relatives_stay_apart_and_the_evidence_is_stored(store):
    store.upsert_datasets(ROWS)
    report = update_clusters(store, MODEL)
    ids = _ids(store)
    clusters = _clusters(store)
    mnist = {ids["ylecun/mnist"], ids["554"], ids["oddrationale/mnist-in-csv"]}
    fashion = {ids["zalando-datasets/fashion_mnist"], ids["zalando-research/fashionmnist"]}
    assert {clusters[i] for i in mnist} == {min(mnist)}
    assert {clusters[i] for i in fashion} == {min(fashion)}
    assert ids["someone/titanic"] not in clusters
    assert (report.compared, report.clusters, report.clustered_rows) == (6, 2, 5)
    links = stored.links_of(store, ids["554"])
    assert links[ids["ylecun/mnist"]]["evidence"][0]["kind"] == "reference"
    homes = stored.other_members(store, [ids["ylecun/mnist"]], ("source", "external_id"))
    assert [m["external_id"] for m in homes[ids["ylecun/mnist"]]] == ["554", "oddrationale/mnist-in-csv"]
    assert stored.multi_member_pairs(store)[("huggingface", "openml")] == 1
    # MNIST and Fashion-MNIST share an origin, rows and columns: stored as kept apart, so no later
    # link between their clusters can chain them
    kept_apart = {(ids[a], ids[b]) for a in ("ylecun/mnist",) for b in ("zalando-datasets/fashion_mnist",)}
    assert {(min(p), max(p)) for p in kept_apart} <= stored.stored_apart(store)


def test_a_second_run_compares_only_changed_rows_and_changes_nothing_else(store):
    store.upsert_datasets(ROWS)
    update_clusters(store, MODEL)
    before = _clusters(store)
    assert update_clusters(store, MODEL).compared == 0
    changed = dict(ROWS[5], description="Who survived the Titanic, with cabins.")
    store.upsert_datasets([changed])
    report = update_clusters(store, MODEL)
    assert report.compared == 1
    assert _clusters(store) == before
    assert update_clusters(store, MODEL, rebuild=True).compared == len(ROWS)
    assert _clusters(store) == before


def test_a_deactivated_copy_leaves_its_cluster(store):
    store.upsert_datasets(ROWS)
    update_clusters(store, MODEL)
    ids = _ids(store)
    store.upsert_datasets([dict(ROWS[4], is_active=False)])
    report = update_clusters(store, MODEL)
    assert report.forgotten == 1
    assert ids["zalando-research/fashionmnist"] not in _clusters(store)
    assert ids["zalando-datasets/fashion_mnist"] not in _clusters(store)


def test_a_run_killed_half_way_and_rerun_gives_the_same_clusters(store, monkeypatch):
    store.upsert_datasets(ROWS)
    update_clusters(store, MODEL)
    expected, expected_apart = _clusters(store), stored.stored_apart(store)
    with store.engine.begin() as conn:  # back to a catalog never clustered
        for table in (dataset_clusters, dataset_links, dataset_apart, dataset_cluster_keys, dataset_cluster_facts):
            conn.execute(sa.delete(table))
    calls = {"n": 0}
    real = stored.write_compared

    def dies_on_the_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stored, "write_compared", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        update_clusters(store, MODEL, batch_rows=2)
    monkeypatch.setattr(stored, "write_compared", real)
    assert len(stored.rows_to_compare(store)) == 4  # the first batch is kept
    update_clusters(store, MODEL)
    assert build.stored.rows_to_compare(store) == []
    assert _clusters(store) == expected and stored.stored_apart(store) == expected_apart
