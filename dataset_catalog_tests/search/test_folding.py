"""Search folds duplicate clusters: one hit per dataset with its other homes, every copy on request;
the duplicates endpoint gives the evidence; similar datasets skip the dataset's own copies."""

import pytest
from fastapi.testclient import TestClient

from dataset_catalog.clusters.build import update_clusters
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.search.finder import SearchRequest, find
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.fakes.copies import COPIES

MNIST = {"ylecun/mnist", "554", "oddrationale/mnist-in-csv"}


@pytest.fixture
def clustered(store, corpus, encoder):
    store.upsert_datasets([dict(r) for r in COPIES])
    embed_datasets(store, encoder)
    update_clusters(store, encoder.name)
    return store


def _hits(store, encoder, **options):
    page = find(store, SearchRequest("handwritten digits images", limit=20, **options), encoder=encoder)
    return page, [h.external_id for h in page.hits]


def test_one_hit_per_cluster_with_its_other_homes_and_every_copy_on_request(clustered, encoder):
    folded, folded_ids = _hits(clustered, encoder)
    assert len(MNIST & set(folded_ids)) == 1
    mnist = next(h for h in folded.hits if h.external_id in MNIST)
    assert {h["external_id"] for h in mnist.also_on} == MNIST - {mnist.external_id}
    unfolded, unfolded_ids = _hits(clustered, encoder, fold=False)
    assert set(unfolded_ids) >= MNIST
    assert unfolded.total == folded.total + 3  # two MNIST copies and one Fashion-MNIST copy folded
    sources = lambda page: {b.value: b.count for b in page.facets["source"]}  # noqa: E731
    assert (
        sum(sources(unfolded).values()) - sum(sources(folded).values()) == unfolded.good_matches - folded.good_matches
    )


def test_the_api_lists_other_homes_and_the_evidence_and_similar_skips_them(clustered, encoder):
    with TestClient(create_app(store=clustered, encoder=encoder), raise_server_exceptions=False) as client:
        hits = client.get("/api/search", params={"q": "handwritten digits images", "limit": 20}).json()["hits"]
        mnist = [h for h in hits if h["external_id"] in MNIST]
        assert len(mnist) == 1 and len(mnist[0]["also_on"]) == 2
        assert {"source", "external_id", "url", "title"} <= set(mnist[0]["also_on"][0])
        every = client.get("/api/search", params={"q": "handwritten digits images", "limit": 20, "fold": "false"})
        assert {h["external_id"] for h in every.json()["hits"]} >= MNIST
        duplicates = client.get("/api/datasets/openml/554/duplicates").json()["duplicates"]
        by_id = {d["external_id"]: d for d in duplicates}
        assert set(by_id) == {"ylecun/mnist", "oddrationale/mnist-in-csv"}
        assert by_id["ylecun/mnist"]["evidence"][0]["kind"] == "reference"
        assert by_id["ylecun/mnist"]["confidence"] >= 0.9
        similar = client.get("/api/datasets/openml/554/similar", params={"limit": 20}).json()["similar"]
        assert not MNIST & {s["external_id"] for s in similar}
        page = client.get("/datasets/openml/554")
        assert "The same data elsewhere" in page.text and "oddrationale/mnist-in-csv" in page.text
        assert client.get("/api/datasets/kaggle/someone/titanic/duplicates").json()["duplicates"] == []


def test_a_cluster_is_shown_by_its_best_documented_most_used_copy(store, corpus, encoder):
    rows = [dict(r) for r in COPIES]
    for row in rows:  # OpenML's copy, ranked first for this query, documents the least
        if row["external_id"] == "554":
            row.update(license=None, task_categories=[], download_count=5, like_count=0)
            row["description"] = "handwritten digits images: " + row["description"]
        elif row["external_id"] == "ylecun/mnist":
            row.update(license="mit", task_categories=["image-classification"], download_count=900, like_count=4)
            row["description"] = "Card: " + row["description"].split(". ", 1)[1]  # the homepage only
    store.upsert_datasets(rows)
    embed_datasets(store, encoder)
    update_clusters(store, encoder.name)
    _, every = _hits(store, encoder, fold=False)
    folded, folded_ids = _hits(store, encoder)
    mnist_first = min(every.index(i) for i in MNIST)
    assert every[mnist_first] != "ylecun/mnist"  # the ranking alone would show another copy
    assert [i for i in folded_ids if i in MNIST] == ["ylecun/mnist"]
    # the cluster keeps its best-ranked copy's place in the list
    before = [i for i in every[:mnist_first] if i not in MNIST]
    assert folded_ids.index("ylecun/mnist") <= len(before)
    shown = next(h for h in folded.hits if h.external_id == "ylecun/mnist")
    assert {h["external_id"] for h in shown.also_on} == {"554", "oddrationale/mnist-in-csv"}
