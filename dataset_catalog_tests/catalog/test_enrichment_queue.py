"""The claim queue is any source's and any stage's: it claims only its source's rows, writes only
its stage's columns and logs under its stage's name. (Kaggle's use: kaggle/test_enrichment.py.)"""

from datetime import timedelta

import pytest

from dataset_catalog.catalog.enrichment_log import log_rows
from dataset_catalog.catalog.enrichment_queue import Attempt, EnrichmentQueue


def _rows(source, likes):
    return [
        {
            "source": source,
            "external_id": f"{source}/{n}",
            "title": str(n),
            "like_count": n,
            "enrichment_status": "pending",
        }
        for n in likes
    ]


def test_a_queue_of_another_source_and_stage(store):
    store.upsert_datasets(_rows("huggingface", [5, 50, 7]) + _rows("kaggle", [1000]))
    cards = EnrichmentQueue(source="huggingface", stage="dataset_card", columns=frozenset({"description"}))
    claims = cards.claim(store, "w1", 2, timedelta(hours=1))
    assert [c.external_id for c in claims] == ["huggingface/50", "huggingface/7"]  # most liked first, own source only
    assert cards.count_claimable(store, timedelta(hours=1)) == 1
    with pytest.raises(ValueError, match="title"):
        cards.record_success(store, claims[0], "w1", {"title": "not ours to write"}, Attempt("success", 1, "r"))
    assert cards.record_success(store, claims[0], "w1", {"description": "From the card"}, Attempt("success", 3, "r"))
    assert cards.release(store, [claims[1].id], "w1") == 1
    rows = {r["external_id"]: r for r in store.fetch_datasets("huggingface")}
    assert (rows["huggingface/50"]["enrichment_status"], rows["huggingface/50"]["description"]) == (
        "enriched",
        "From the card",
    )
    assert rows["huggingface/7"]["enrichment_status"] == "pending"
    assert [(e["stage"], e["result"]) for e in log_rows(store)] == [("dataset_card", "success")]


def test_a_queue_never_writes_state_columns():
    with pytest.raises(ValueError, match="link_status"):
        EnrichmentQueue(source="x", stage="y", columns=frozenset({"description", "link_status"}))
