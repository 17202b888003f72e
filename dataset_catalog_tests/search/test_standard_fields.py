"""Every source's rows carry the standard fields (common/standard_fields.py): each source's asset
writes through its real client and fake server, and the dataset record, its JSON-LD and its
Croissant show files, creators, citation, how to load it and the source page, read by code that
never asks which source a row came from."""

from datetime import UTC, datetime

from dataset_catalog.common.standard_fields import FILE_KEYS, file_entry
from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets, kaggle_latest_datasets
from dataset_catalog.search.finder import dataset_details, details_to_dict
from dataset_catalog.service.schema_org import croissant, dataset_jsonld
from dataset_catalog_tests.fakes.corpus import HF, ds
from dataset_catalog_tests.fakes.hf_hub import make_hub_item
from dataset_catalog_tests.fakes.kaggle_api import make_datasets
from dataset_catalog_tests.fakes.openml_api import FakeDataset, FakeOpenML
from dataset_catalog_tests.fakes.zenodo_oai import FakeZenodoOai, make_zenodo_record
from dataset_catalog_tests.huggingface.conftest import materialize_hf
from dataset_catalog_tests.kaggle.test_latest import materialize as materialize_kaggle
from dataset_catalog_tests.openml.conftest import materialize_openml
from dataset_catalog_tests.zenodo.conftest import materialize_zenodo

PAGE = "http://catalog.test/datasets/"


def published(store, source: str, external_id: str) -> tuple[dict, dict, dict]:
    """The API record, the JSON-LD and the Croissant of one dataset, as the service builds them."""
    details = dataset_details(store, source, external_id)
    assert details is not None, f"{source}/{external_id} is not in the catalog"
    page = f"{PAGE}{source}/{external_id}"
    return details_to_dict(details), dataset_jsonld(details, page), croissant(details, page)


def test_hub_rows_carry_the_split_files_owner_card_citation_and_load_dataset(database_url, store, fake_hub):
    item = make_hub_item("lab/asr", datetime(2025, 5, 6, 7, tzinfo=UTC), pretty_name="Read speech")
    item["cardData"]["dataset_info"] = {
        "config_name": "clean",
        "splits": [{"name": "train", "num_bytes": 1_000, "num_examples": 10}, {"name": "test", "num_examples": 2}],
    }
    item["citation"] = "@inproceedings{lab2025asr, title={Read speech}, year={2025}}"
    fake_hub.set_items([item])
    assert materialize_hf(database_url, fake_hub.url, partition="2025-05-06").success

    record, jsonld, card = published(store, "huggingface", "lab/asr")
    assert record["files"] == [
        {"name": "clean/train", "url": None, "bytes": 1_000, "rows": 10, "format": None},
        {"name": "clean/test", "url": None, "bytes": None, "rows": 2, "format": None},
    ]
    assert record["creators"] == [{"name": "lab", "kind": "organization"}]
    assert record["citation"] == item["citation"] and record["url"] == "https://huggingface.co/datasets/lab/asr"
    # Runnable as it stands, with the card's one configuration named.
    assert record["load"] == {
        "code": 'import datasets\n\nds = datasets.load_dataset("lab/asr", "clean")',
        "language": "python",
    }
    assert jsonld["creator"] == {"@type": "Organization", "name": "lab"} and jsonld["citation"] == item["citation"]
    assert jsonld["distribution"][0] == {
        "@type": "DataDownload",
        "name": "clean/train",
        "contentSize": "1000 B",
        "contentUrl": "https://huggingface.co/datasets/lab/asr",
    }
    assert card["citeAs"] == item["citation"] and card["creator"] == {"@type": "sc:Organization", "name": "lab"}


def test_kaggle_rows_carry_the_listed_files_owner_and_the_cli_download(
    database_url, store, kaggle_resource, kaggle_env
):
    [made] = make_datasets(kaggle_env, 1)
    materialize_kaggle([kaggle_latest_datasets], database_url, kaggle_resource)
    materialize_kaggle([kaggle_enriched_datasets], database_url, kaggle_resource)

    record, jsonld, card = published(store, "kaggle", made.ref)
    owner = made.ref.split("/")[0]
    assert [(f["name"], f["bytes"], f["format"]) for f in record["files"]] == [
        (f.name, len(f.content), f.name.rsplit(".", 1)[-1]) for f in made.files
    ]
    assert record["creators"] == [{"name": owner, "kind": "person"}] and record["citation"] is None
    assert record["load"] == {"code": f"kaggle datasets download -d {made.ref}", "language": "shell"}
    assert record["url"] == f"https://www.kaggle.com/datasets/{made.ref}"
    assert jsonld["creator"] == {"@type": "Person", "name": owner} and "citation" not in jsonld
    assert {d["contentUrl"] for d in jsonld["distribution"]} == {record["url"]}  # the API gave no file URLs
    assert card["citeAs"].startswith(f"@misc{{kaggle_{owner}_") and f"author={{{owner}}}" in card["citeAs"]


def test_openml_rows_carry_the_data_files_creator_citation_and_get_dataset(database_url, store):
    with FakeOpenML() as openml:
        openml.add(FakeDataset(61, "iris", creator="R.A. Fisher"))
        assert materialize_openml(database_url, openml.url).success

    record, jsonld, card = published(store, "openml", "61")
    assert record["files"] == [
        {
            "name": "iris.arff",
            "url": "https://api.openml.org/data/v1/download/1000061/iris.arff",
            "bytes": None,
            "rows": 150,
            "format": "arff",
        },
        {
            "name": "dataset_61.pq",
            "url": "https://data.openml.org/datasets/0000/0061/dataset_61.pq",
            "bytes": None,
            "rows": 150,
            "format": "parquet",
        },
    ]
    assert record["creators"] == [{"name": "R.A. Fisher", "kind": "person"}]
    assert record["citation"] == "Doe, J. (2014)." and record["url"] == "https://www.openml.org/d/61"
    assert record["load"] == {
        "code": "import openml\n\ndataset = openml.datasets.get_dataset(61)\n"
        "X, y, categorical, names = dataset.get_data(target=dataset.default_target_attribute)",
        "language": "python",
    }
    assert [d["contentUrl"] for d in jsonld["distribution"]] == [f["url"] for f in record["files"]]
    assert jsonld["creator"] == {"@type": "Person", "name": "R.A. Fisher"} and card["citeAs"] == "Doe, J. (2014)."
    assert card["version"] == "1.0.0"


def test_zenodo_rows_carry_every_creator_a_datacite_citation_and_the_concept_doi(database_url, store):
    import mlcroissant as mlc

    with FakeZenodoOai() as zenodo:
        zenodo.rate_limit = None
        zenodo.set_records(
            [
                make_zenodo_record(
                    102,
                    datetime(2025, 3, 10, 8, tzinfo=UTC),
                    concept_recid=100,
                    title="Antarctic ice cores",
                    creators=(("Doe, Jane", "0000-0002-1825-0097", "CERN"), ("Roe, Rick", None, None)),
                    version="1.2",
                )
            ]
        )
        assert materialize_zenodo(database_url, zenodo, partition="2025-03-10").success

    record, jsonld, card = published(store, "zenodo", "100")
    assert record["creators"] == [{"name": "Doe, Jane", "kind": "person"}, {"name": "Roe, Rick", "kind": "person"}]
    assert record["citation"] == (
        "Doe, Jane; Roe, Rick (2024). Antarctic ice cores (Version 1.2) [Data set]. Zenodo. "
        "https://doi.org/10.5281/zenodo.102"
    )
    assert record["load"] == {"code": "https://doi.org/10.5281/zenodo.100", "language": "url"}
    assert record["url"] == "https://zenodo.org/records/102" and record["files"] == []  # DataCite names no files
    assert jsonld["creator"] == [{"@type": "Person", "name": "Doe, Jane"}, {"@type": "Person", "name": "Roe, Rick"}]
    assert "distribution" not in jsonld and card["citeAs"] == record["citation"]
    assert [c["@type"] for c in card["creator"]] == ["sc:Person", "sc:Person"]
    assert mlc.Dataset(jsonld=card).metadata.ctx.issues.errors == set()


def test_a_row_written_before_the_standard_fields_still_renders(store):
    store.upsert_datasets([ds(HF, "old/row", "An old row", "Written before the standard fields existed.")])
    record, jsonld, card = published(store, HF, "old/row")
    assert (record["files"], record["creators"], record["citation"], record["load"]) == ([], [], None, None)
    assert not {"creator", "citation", "distribution"} & set(jsonld) and "author={Hugging Face}" in card["citeAs"]


def test_a_file_entry_has_every_file_key():
    assert tuple(file_entry("a.csv")) == FILE_KEYS
