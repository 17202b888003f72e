"""The labelled cross-source duplicates: the set holds up, its records become each fake's wire format, and
the real source assets ingest every record into a catalog."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from lxml import etree

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.huggingface.mapping import map_item
from dataset_catalog.zenodo.mapping import map_record
from dataset_catalog_tests.fakes.duplicates import (
    LABELLED_SET,
    MIN_PAIRS_PER_LABEL,
    SOURCES,
    expand_columns,
    external_id,
    hub_items,
    ingest_labelled_set,
    load_labelled_set,
    meta_kaggle_files,
    zenodo_records,
)


@pytest.fixture(scope="module")
def labelled():
    return load_labelled_set()


def test_the_set_is_large_balanced_and_spans_every_source_pair(labelled):
    records = Counter(r["source"] for r in labelled.records)
    assert set(records) == set(SOURCES) and 150 <= len(labelled.records) <= 220
    assert min(records.values()) >= 20
    counts = labelled.pair_counts()
    labels = Counter(label for (label, _), n in counts.items() for _ in range(n))
    assert labels["same"] >= MIN_PAIRS_PER_LABEL and labels["different"] >= MIN_PAIRS_PER_LABEL
    same = {pair for (label, pair), n in counts.items() if label == "same" and n}
    cross = {"huggingface-kaggle", "huggingface-openml", "kaggle-openml", "huggingface-zenodo", "kaggle-zenodo"}
    assert cross <= same
    assert same & {
        "huggingface-huggingface",
        "kaggle-kaggle",
        "openml-openml",
        "zenodo-zenodo",
    }  # copies within a source
    paired = {k for p in labelled.pairs for k in (p["a"], p["b"])}
    assert paired == set(labelled.by_key)  # every record is in at least one labelled pair


def test_hard_near_misses_are_labelled_different(labelled):
    label = {frozenset((p["a"], p["b"])): p["label"] for p in labelled.pairs}
    for a, b in [
        ("hf:mnist", "hf:fashion"),
        ("hf:squad", "hf:squad_v2"),
        ("hf:squad", "hf:squad_it"),
        ("hf:cifar10", "hf:cifar100"),
        ("kg:titanic-891", "kg:spaceship"),
        ("kg:imdb50k", "kg:imdb-top1000"),
        ("oml:wine-red", "oml:wine"),
        ("oml:iris", "oml:iris-bin"),
    ]:
        assert label[frozenset((a, b))] == "different", (a, b)
    # The SQuAD trap: both cards name the same Papers with Code dataset.
    by_key = labelled.by_key
    assert by_key["hf:squad"]["card"]["paperswithcode_id"] == by_key["hf:squad_v2"]["card"]["paperswithcode_id"]


def test_load_refuses_a_broken_set(tmp_path):
    data = json.loads(LABELLED_SET.read_text(encoding="utf-8"))
    data["pairs"].append({"a": "hf:mnist", "b": "hf:no-such-record", "label": "same", "why": "typo"})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="unknown"):
        load_labelled_set(broken)
    data["pairs"].pop()
    data["pairs"][0]["label"] = "maybe"
    broken.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="label"):
        load_labelled_set(broken)


def test_column_ranges_expand_as_the_sites_name_columns():
    assert expand_columns(["label", "{1..28}x{1..28}"])[:3] == ["label", "1x1", "1x2"]
    assert len(expand_columns(["label", "{1..28}x{1..28}"])) == 785
    assert expand_columns(["pixel{0000..2351}"])[-1] == "pixel2351"
    assert expand_columns(["PAY_{2..6}"]) == ["PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]


def test_wire_formats_carry_what_the_mappings_read(labelled):
    hub = {item["id"]: item for item in hub_items(labelled.of("huggingface"))}
    mnist = map_item(hub["ylecun/mnist"]).row
    assert (mnist["row_count"], mnist["column_names"], mnist["license"]) == (70000, ["image", "label"], "mit")
    assert hub["ylecun/mnist"]["cardData"]["paperswithcode_id"] == "mnist"
    files = meta_kaggle_files(labelled.of("kaggle"))
    assert sum(1 for _ in files["Datasets"].decode().splitlines()) == len(labelled.of("kaggle")) + 1
    records = {r.recid: r for r in zenodo_records(labelled.of("zenodo"))}
    assert 5208230 in records and 10519652 in records  # MedMNIST's older version is served too
    xml = records[1203745].xml
    assert b'relationType="IsSupplementTo">10.1145/2647868.2655045<' in xml
    envelope = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    )
    version = map_record(etree.fromstring(envelope + xml + b"</OAI-PMH>")[0])
    assert (version["concept_recid"], version["doi"]) == (1203744, "10.5281/zenodo.1203745")


@pytest.mark.slow
def test_ingest_writes_every_record_as_an_active_row(labelled, tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    ids = ingest_labelled_set(url, tmp_path / "work", labelled)
    assert set(ids) == set(labelled.by_key) and len(set(ids.values())) == len(ids)
    with CatalogStore(url) as store:
        rows = {row["id"]: row for source in SOURCES for row in store.fetch_datasets(source)}
    assert len(rows) == len(labelled.records)  # nothing else was written (Meta Kaggle itself is no row)
    for key, row_id in ids.items():
        record, row = labelled.by_key[key], rows[row_id]
        assert (row["source"], row["external_id"]) == (record["source"], external_id(record))
        assert row["is_active"] and row["enrichment_status"] == "enriched", key
    by_key = {key: rows[row_id] for key, row_id in ids.items()}
    assert (by_key["hf:mnist"]["row_count"], by_key["oml:mnist_784"]["row_count"]) == (70000, 70000)
    assert by_key["kg:mnist-csv"]["column_names"][:2] == ["label", "1x1"]
    assert by_key["kg:iris"]["title"] == "Iris Species" and by_key["kg:iris"]["license"] == "CC0: Public Domain"
    assert by_key["oml:adult"]["column_names"][-1] == "class" and by_key["oml:adult"]["row_count"] == 48842
    assert by_key["zen:medmnist"]["source_meta"]["version_count"] == 2
