"""Zenodo and OpenML rows reach search with no change to embeddings or search code: each source's
asset writes through its real client and fake server, dataset_embeddings embeds every source,
and a search finds them, names their source and counts them in the source facet."""

from datetime import UTC, datetime

import dagster as dg

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.embeddings.assets import dataset_embeddings
from dataset_catalog.defs.embeddings.resources import EmbeddingModelResource
from dataset_catalog.search.finder import SearchRequest, find
from dataset_catalog_tests.fakes.openml_api import FakeDataset, FakeOpenML
from dataset_catalog_tests.fakes.zenodo_oai import FakeZenodoOai, make_zenodo_record
from dataset_catalog_tests.openml.conftest import materialize_openml
from dataset_catalog_tests.zenodo.conftest import materialize_zenodo


def test_zenodo_and_openml_rows_are_embedded_found_and_faceted(database_url, store, encoder, monkeypatch):
    monkeypatch.delenv("DATASET_CATALOG_EMBEDDING_MODEL", raising=False)
    with FakeZenodoOai() as zenodo, FakeOpenML() as openml:
        zenodo.rate_limit = None
        zenodo.set_records(
            [
                make_zenodo_record(
                    101,
                    datetime(2025, 3, 10, 8, tzinfo=UTC),
                    title="Antarctic ice core temperature records",
                    description="<p>Oxygen isotope ratios and temperatures from <b>ice cores</b> drilled in Antarctica.</p>",
                ),
            ]
        )
        openml.add(
            FakeDataset(
                31, "credit-g", description="German credit data: classify loan applicants as good or bad credit risks."
            )
        )
        assert materialize_zenodo(database_url, zenodo, partition="2025-03-10").success
        assert materialize_openml(database_url, openml.url).success
    resources = {"catalog": CatalogResource(database_url=database_url), "embedding_model": EmbeddingModelResource()}
    assert dg.materialize([dataset_embeddings], resources=resources).success

    with CatalogStore(database_url) as reader:
        ice = find(reader, SearchRequest("temperature history from polar ice", limit=5), encoder=encoder)
        credit = find(reader, SearchRequest("loan default risk classification", limit=5), encoder=encoder)
    assert (ice.hits[0].source, ice.hits[0].external_id, ice.hits[0].source_name) == ("zenodo", "101", "Zenodo")
    [zenodo_row] = store.fetch_datasets("zenodo")
    assert zenodo_row["description"].startswith("Oxygen isotope ratios") and "<" not in zenodo_row["description"]
    assert (credit.hits[0].source, credit.hits[0].external_id, credit.hits[0].source_name) == ("openml", "31", "OpenML")
    assert credit.hits[0].url == "https://www.openml.org/d/31"
    sources = {b.value: (b.label, b.count) for b in ice.facets["source"]}
    # Facets count good matches: the OpenML credit-risk table is no good match for polar ice.
    assert sources == {"zenodo": ("Zenodo", 1)}
