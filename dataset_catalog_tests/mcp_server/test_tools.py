"""The MCP tools as plain functions over a real catalog (SQLite and PostgreSQL): what an agent
gets back, how much of it, and what it is told when its input cannot be answered."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from dataset_catalog.common.languages import language_code
from dataset_catalog.common.licenses import normalize_license
from dataset_catalog.common.modalities import modalities_of
from dataset_catalog.mcp_server import tools
from dataset_catalog.mcp_server.tools import ToolInputError
from dataset_catalog.search.finder import find
from dataset_catalog.service.params import SearchParams
from dataset_catalog_tests.mcp_server.conftest import BIG, LANGUAGES, MNIST, MNIST_CITATION, MNIST_LOAD


def test_a_search_finds_the_dataset_first_as_a_compact_hit(mcp_service):
    answer = tools.search_datasets(mcp_service, "handwritten digits", limit=5)
    first = answer["hits"][0]
    assert (first["source"], first["external_id"]) == MNIST
    assert first["title"] == "MNIST" and first["page"] == "/datasets/huggingface/ylecun/mnist"
    assert first["license"] == {"spdx": "MIT", "name": "MIT", "family": "mit"}
    assert first["tasks"] == ["image-classification"] and first["downloads"] == 90_000 and first["good_match"]
    assert "handwritten digits" in first["snippet"]
    # Ranking internals and empty fields are left out; the query's reading and the counts are there.
    assert not {"score", "semantic_rank", "keyword_rank", "size_bytes"} & set(first)
    assert answer["modes"] == ["semantic", "keyword"] and answer["total"] >= answer["good_matches"] >= 1
    assert answer["interpretation"]["topic"] == "handwritten digits" and len(answer["hits"]) == 5


def test_a_search_reads_constraints_from_the_query(mcp_service):
    answer = tools.search_datasets(mcp_service, "german speech recognition")
    assert answer["hits"][0]["external_id"] == "lab/german-asr"
    understood = {(c["kind"], c["value"], c["applied"]) for c in answer["interpretation"]["constraints"]}
    assert {("language", "de", "filter"), ("task", "automatic-speech-recognition", "filter")} <= understood
    assert answer["hits"][0]["languages"] == ["German"] and answer["hits"][0]["size"] == "3.2 GB, 180k rows"


def test_filters_paging_and_long_lists(mcp_service):
    on_kaggle = tools.search_datasets(mcp_service, "speech", source="Kaggle", limit=50)  # a display name works too
    assert on_kaggle["filters"] == {"source": "kaggle"} and {h["source"] for h in on_kaggle["hits"]} == {"kaggle"}
    first, second = (tools.search_datasets(mcp_service, "speech", limit=2, offset=o) for o in (0, 2))
    assert first["next_offset"] == 2 and second["offset"] == 2
    assert not {h["external_id"] for h in first["hits"]} & {h["external_id"] for h in second["hits"]}
    licensed = tools.search_datasets(mcp_service, "speech", license_family="cc-by-sa", limit=50)
    assert licensed["hits"] and {h["license"]["family"] for h in licensed["hits"]} == {"cc-by-sa"}
    audio = tools.search_datasets(mcp_service, "speech", modality="audio", limit=50)
    assert audio["hits"] and all(
        "audio" in modalities_of(h.get("tasks", []), h.get("formats", [])) for h in audio["hits"]
    )
    small = tools.search_datasets(mcp_service, "speech", size="100K<n<1M", limit=50)
    assert all(100_000 <= h.get("row_count", 100_000) < 1_000_000 for h in small["hits"])
    polyglot = tools.search_datasets(mcp_service, "parallel sentences for machine translation", limit=3)
    hit = next(h for h in polyglot["hits"] if h["external_id"] == BIG["external_id"])
    assert len(hit["languages"]) == tools.HIT_LIST_ITEMS and hit["languages_total"] == len(LANGUAGES)
    assert len(hit["snippet"]) <= tools.SNIPPET_CHARS


def test_fifty_hits_stay_small(mcp_service):
    answer = tools.search_datasets(mcp_service, "data", limit=50)
    assert len(answer["hits"]) == min(answer["total"], 50) > 20 and len(orjson.dumps(answer)) < 50 * 1500


REFUSED_SEARCHES = [
    ({"query": "  "}, "The query is empty: give a few words"),
    ({"query": "speech", "limit": 51}, "limit must be a whole number from 1 to 50, got 51: ask for fewer hits"),
    ({"query": "speech", "limit": 0}, "limit must be a whole number from 1 to 50"),
    ({"query": "speech", "offset": 200}, "offset must be a whole number from 0 to 199"),
    ({"query": "speech", "source": "nowhere"}, "Unknown source 'nowhere': give one of huggingface, kaggle"),
    (
        {"query": "speech", "task": "teleportation"},
        "No dataset in the catalog has task 'teleportation'. Call list_facets",
    ),
    ({"query": "speech", "format": "punchcards"}, "No dataset in the catalog has format 'punchcards'"),
    ({"query": "speech", "license_family": "beerware"}, "No dataset in the catalog has license_family 'beerware'"),
    (
        {"query": "speech", "language": "Klingon"},
        "No dataset in the catalog has language 'Klingon' (read as Klingon, tlh)",
    ),
    ({"query": "speech", "language": "qqqzzz"}, "Unknown language 'qqqzzz': give an ISO code (de) or a name"),
    ({"query": "speech", "license": "MIT\x00"}, "license: Value error, contains a control character"),
]


def test_input_that_cannot_be_answered_says_what_to_do(mcp_service):
    # One catalog for every case: building and embedding it is most of a case's time.
    for arguments, message in REFUSED_SEARCHES:
        with pytest.raises(ToolInputError) as refused:
            tools.search_datasets(mcp_service, **arguments)
        assert message in str(refused.value), arguments


def test_filters_that_exist_but_match_nothing_together_are_an_empty_answer(mcp_service):
    answer = tools.search_datasets(mcp_service, "handwritten digits", task="image-classification", language="de")
    assert answer["hits"] == [] and answer["total"] == 0


def test_get_dataset_gives_the_page_with_how_to_load_it(mcp_service):
    page = tools.get_dataset(mcp_service, *MNIST)
    assert page["title"] == "MNIST" and page["load"] == {"code": MNIST_LOAD, "language": "python"}
    assert page["citation"] == MNIST_CITATION and page["description"].startswith("Grayscale 28x28 images")
    assert page["license"]["id"] == "MIT" and "other_homes" in page and "truncated" not in page
    assert not set(tools.RANKING_FIELDS) & set(page)
    assert tools.get_dataset(mcp_service, "Hugging Face", " ylecun/mnist ")["external_id"] == "ylecun/mnist"


def test_a_big_page_is_cut_and_says_where(mcp_service):
    page = tools.get_dataset(mcp_service, BIG["source"], BIG["external_id"])
    assert len(page["description"]) == tools.DESCRIPTION_CHARS and page["description"].endswith("…")
    assert len(page["files"]) == 50 and page["files"][0]["name"] == "part-0000.parquet"
    assert len(page["columns"]) == 50
    assert any(t.startswith("files (120 items, first 50 shown)") for t in page["truncated"])
    assert any(t.startswith("description (") for t in page["truncated"])
    assert len(orjson.dumps(page)) <= tools.MAX_PAGE_CHARS


def test_bounded_page_cuts_again_until_it_fits():
    page = {"description": "x" * 10_000, "files": [{"name": "f" * 3000, "parts": list(range(100))}] * 200}
    bounded = tools.bounded_page(page)
    assert len(orjson.dumps(bounded)) <= tools.MAX_PAGE_CHARS
    assert len(bounded["files"]) < 50 and len(bounded["files"][0]["name"]) < 3000 and bounded["truncated"]
    small = {"title": "t", "tags": ["a"]}
    assert tools.bounded_page(small) == small


def test_an_unknown_dataset_says_where_ids_come_from(mcp_service):
    for source, external_id, message in [
        ("kaggle", "nobody/nothing", "No dataset kaggle/nobody/nothing in the catalog: call search_datasets"),
        ("somewhere", "x", "Unknown source 'somewhere'"),
        ("kaggle", "", "external_id must be the dataset's id within its source"),
        ("kaggle", "a\nb", "external_id must be the dataset's id within its source"),
    ]:
        for tool in (tools.get_dataset, tools.similar):
            with pytest.raises(ToolInputError) as refused:
                tool(mcp_service, source, external_id)
            assert message in str(refused.value), (tool.__name__, source, external_id)


def test_similar_leaves_the_dataset_out_and_puts_other_sources_first(mcp_service):
    answer = tools.similar(mcp_service, "huggingface", "stanfordnlp/imdb", limit=4)
    assert answer["dataset"]["external_id"] == "stanfordnlp/imdb" and len(answer["similar"]) == 4
    assert "stanfordnlp/imdb" not in [s["external_id"] for s in answer["similar"]]
    assert answer["similar"][0]["source"] == "kaggle" and all("similarity" in s for s in answer["similar"])
    with pytest.raises(ToolInputError, match="limit must be a whole number from 1 to 50"):
        tools.similar(mcp_service, "huggingface", "stanfordnlp/imdb", limit=51)


def test_before_the_first_embedding_search_is_keyword_only_and_similar_says_why(keyword_only_service):
    answer = tools.search_datasets(keyword_only_service, "handwritten digits")
    assert answer["modes"] == ["keyword"] and answer["hits"][0]["external_id"] == "ylecun/mnist"
    similar = tools.similar(keyword_only_service, *MNIST)
    assert similar["similar"] == [] and "no embedding yet" in similar["note"]


def test_catalog_facets_count_every_active_dataset(mcp_service, mcp_rows):
    answer = tools.list_facets(mcp_service)
    counts = {name: {b["value"]: b["count"] for b in buckets} for name, buckets in answer["facets"].items()}
    assert answer["scope"] == "catalog" and answer["total"] == len(mcp_rows)
    assert counts["source"] == Counter(r["source"] for r in mcp_rows)
    families = Counter(normalize_license(r["license"]).family for r in mcp_rows)
    assert counts["license_family"] == dict(families.most_common(15))
    german = sum("de" in {language_code(v) for v in r.get("languages") or []} for r in mcp_rows)
    assert counts["language"]["de"] == german >= 3
    assert set(answer["facets"]["source"][0]) == {"value", "label", "count"}


def test_query_facets_are_the_api_facets(mcp_service):
    answer = tools.list_facets(mcp_service, "german speech")
    api = find(
        mcp_service.store, SearchParams(q="german speech").request(), mcp_service.encoder, mcp_service.model
    ).to_dict()
    expected = {n: [{k: b[k] for k in ("value", "label", "count")} for b in bs] for n, bs in api["facets"].items()}
    assert answer["scope"] == "query" and answer["facets"] == expected and expected["source"]
    assert answer["good_matches"] == api["good_matches"] and answer["interpretation"] == api["interpretation"]
