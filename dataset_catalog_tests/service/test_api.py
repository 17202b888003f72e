"""The JSON API through the real app: search with facets, filters, sort and paging; one dataset,
its similar datasets and Croissant; stats and health; validation and errors that leak nothing."""

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.service.app import create_app
from dataset_catalog_tests.fakes.service_corpus import XSS_TITLE


def search(client, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(payload) -> list[str]:
    return [h["external_id"] for h in payload["hits"]]


def test_search_returns_hits_with_display_fields_and_facets_over_the_result_set(client):
    # understand=false: the words as typed (with understanding, "german" filters to the one German set)
    payload = search(client, q="german speech recognition", limit=5, understand="false")
    assert payload["interpretation"] is None
    top = payload["hits"][0]
    assert top["external_id"] == "lab/german-asr"
    assert top["languages"] == [{"code": "de", "name": "German"}]
    assert top["license"] == {
        "label": "cc-by-sa-4.0",
        "id": "CC-BY-SA-4.0",
        "family": "cc-by-sa",
        "name": "CC-BY-SA-4.0",
    }
    assert (top["size_bytes"], top["row_count"], top["downloads"], top["tasks"]) == (
        3_200_000_000,
        180_000,
        12_000,
        ["automatic-speech-recognition"],
    )
    assert top["updated_at"].startswith("2025-09-01") and top["page"] == "/datasets/huggingface/lab/german-asr"
    snippet = top["snippet"]
    marked = [snippet["text"][a:b].lower() for a, b in snippet["highlights"]]
    assert "german" in marked and "speech" in marked
    # Why, in plain words: which of the query's words match where, meaning, use (no scores or ranks).
    assert top["why"] == [
        "matches “german” in the title",
        "matches “speech recognition” in its tasks",
        "close in meaning to your search",
        "widely used (12k downloads)",
    ]
    assert len(payload["hits"]) == 5 and payload["total"] >= 5
    facets = payload["facets"]
    assert sum(b["count"] for b in facets["source"]) == payload["good_matches"] <= payload["total"]
    assert {"value": "de", "label": "German"}.items() <= next(
        b for b in facets["language"] if b["value"] == "de"
    ).items()
    # Kaggle's "CC BY-SA 4.0" and the Hub's cc-by-sa-4.0 are one bucket
    by_sa = next(b for b in facets["license"] if b["value"] == "CC-BY-SA-4.0")
    assert by_sa["count"] >= 2


def test_license_filter_by_spdx_id_and_family_spans_sources(client):
    got = search(client, q="speech recordings", license="CC-BY-SA-4.0", limit=100)
    assert {"lab/german-asr", "someone/german-speech"} <= set(ids(got))
    assert all(h["license"]["id"] == "CC-BY-SA-4.0" for h in got["hits"])
    cc0 = search(client, q="speech recordings", license="cc0-1.0", limit=100)
    assert "kaggler/public-domain-speech" in ids(cc0) and {h["source"] for h in cc0["hits"]} == {
        "huggingface",
        "kaggle",
    }
    family = search(client, q="images", license_family="cc-by", limit=100)
    assert family["hits"] and all(h["license"]["family"] == "cc-by" for h in family["hits"])


def test_language_filter_takes_codes_and_names(client):
    by_code = search(client, q="speech", language="de", limit=100)
    by_name = search(client, q="speech", language="German", limit=100)
    assert set(ids(by_code)) == set(ids(by_name)) == {"lab/german-asr", "someone/german-speech", "evil/xss"}
    assert client.get("/api/search", params={"q": "speech", "language": "Notalanguage123"}).status_code == 422


def test_sort_and_paging_walk_one_result_set(client):
    first = search(client, q="speech audio recordings", limit=3)
    second = search(client, q="speech audio recordings", limit=3, offset=3)
    everything = search(client, q="speech audio recordings", limit=100)
    assert ids(first) + ids(second) == ids(everything)[:6] and first["total"] == everything["total"]
    by_downloads = search(client, q="speech audio recordings", sort="downloads", limit=100)
    downloads = [h["downloads"] or 0 for h in by_downloads["hits"]]
    assert downloads == sorted(downloads, reverse=True) and set(ids(by_downloads)) == set(ids(everything))
    updated = [h["updated_at"] or "" for h in search(client, q="speech", sort="updated", limit=100)["hits"]]
    assert updated == sorted(updated, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "limit": 101},
        {"q": "x", "limit": 0},
        {"q": "x", "offset": -1},
        {"q": "x", "offset": 100_000},
        {"q": "x", "sort": "random"},
        {"q": "x", "colour": "red"},  # an unknown filter
        {"q": "x", "min_downloads": "lots"},
        {"q": "   "},
        {},
    ],
)
def test_bad_parameters_are_refused_with_422_and_say_which(client, params):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    body = response.json()
    assert "detail" in body and "Traceback" not in response.text
    if "colour" in params:
        assert body["problems"] == [{"parameter": "colour", "problem": "Extra inputs are not permitted"}]


def test_dataset_record_has_everything_the_catalog_knows(client):
    record = client.get("/api/datasets/kaggle/someone/german-speech").json()
    assert record["license"]["id"] == "CC-BY-SA-4.0" and record["license"]["label"] == "CC BY-SA 4.0"
    assert record["languages"] == [{"code": "de", "name": "German"}]
    assert record["files"] == [{"name": "clips.zip", "url": None, "bytes": 52_000_000, "rows": None, "format": "zip"}]
    assert record["columns"] == ["path", "sentence"]
    assert record["description"] == "Short German speech clips from radio."  # heading, markup and boilerplate gone
    assert (
        record["link"]["status"] == "unchecked"
        and record["enrichment"]["status"] == "pending"
        and record["active"] is True
    )
    hub = client.get("/api/datasets/huggingface/lab/german-asr").json()
    assert hub["files"] == [{"name": "train", "url": None, "bytes": 3_000_000_000, "rows": 170_000, "format": None}]
    assert hub["creators"] == [{"name": "lab", "kind": "organization"}] and record["creators"] == []
    missing = client.get("/api/datasets/kaggle/nobody/nothing")
    assert missing.status_code == 404 and "nobody/nothing" in missing.json()["detail"]


def test_similar_lists_nearest_datasets_other_sources_first(client):
    payload = client.get("/api/datasets/huggingface/lab/german-asr/similar", params={"limit": 6}).json()
    similar = payload["similar"]
    assert len(similar) == 6 and "lab/german-asr" not in [s["external_id"] for s in similar]
    assert similar[0]["source"] == "kaggle"  # the nearest from another source leads
    assert similar[0]["external_id"] == "someone/german-speech"
    assert client.get("/api/datasets/huggingface/nope/nope/similar").status_code == 404


def test_croissant_is_valid_metadata_only_croissant(client):
    import mlcroissant as mlc

    response = client.get("/api/datasets/huggingface/lab/german-asr/croissant")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    metadata = response.json()
    dataset = mlc.Dataset(jsonld=metadata)  # raises ValidationError on errors
    assert dataset.metadata.ctx.issues.errors == set()
    assert dataset.metadata.ctx.issues.warnings == set()
    assert metadata["version"] == "2025.9.1"  # the source's last update, as a calendar version
    without_revision = mlc.Dataset(jsonld=client.get("/api/datasets/huggingface/evil/xss/croissant").json())
    assert sorted(w.split("] ")[1] for w in without_revision.metadata.ctx.issues.warnings) == [
        'Property "https://schema.org/datePublished" is recommended, but does not exist.',
        'Property "https://schema.org/version" is recommended, but does not exist.',
    ]  # the documented warnings: this source row has no dates and no version
    assert (
        metadata["name"] == "German ASR corpus"
        and metadata["sameAs"] == "https://example.org/huggingface/lab/german-asr"
    )
    assert metadata["license"] == "https://spdx.org/licenses/CC-BY-SA-4.0.html" and "German" in metadata["keywords"]
    assert metadata["creator"]["name"] == "lab" and metadata["url"].endswith("/datasets/huggingface/lab/german-asr")


def test_stats_and_health(client):
    stats = client.get("/api/stats").json()
    assert stats["sources"]["kaggle"]["active"] == 10 and stats["semantic_search"] is True
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]["parameters"]


def test_the_service_never_writes_to_the_catalog(client, served_store):
    before = served_store.fetch_datasets()
    for path in (
        "/api/search?q=speech",
        "/?q=speech",
        "/api/datasets/huggingface/lab/german-asr",
        "/api/stats",
        "/datasets/huggingface/lab/german-asr",
        "/api/datasets/huggingface/lab/german-asr/similar",
    ):
        assert client.get(path).status_code == 200
    assert client.post("/api/search?q=speech").status_code == 405
    with pytest.raises(sa.exc.DBAPIError), served_store.engine.begin() as conn:  # its connections refuse writes
        conn.execute(sa.update(datasets).values(title="changed"))
    assert served_store.fetch_datasets() == before


def test_errors_leak_no_trace_and_no_database_url(store, corpus, encoder, caplog):
    app = create_app(store=store, encoder=encoder)
    with TestClient(app, raise_server_exceptions=False) as client:
        store.engine.dispose()
        broken = sa.create_engine("postgresql://catalog:s3cret-pass@127.0.0.1:1/nowhere")
        store.engine = broken  # the database goes away under a running service
        caplog.set_level(logging.ERROR)
        for path in (
            "/api/search?q=speech",
            "/?q=speech",
            "/api/stats",
            "/api/datasets/kaggle/a/b",
            "/datasets/kaggle/a/b",
        ):
            response = client.get(path)
            assert response.status_code in (500, 503), path
            for leak in ("s3cret", "127.0.0.1:1", "postgresql://", "Traceback", "sqlalchemy", 'File "'):
                assert leak not in response.text, (path, leak)
        assert client.get("/healthz").status_code == 503
    assert "s3cret-pass" not in caplog.text


def test_xss_title_is_returned_as_data(client):
    hit = next(h for h in search(client, q="evil speech", limit=100)["hits"] if h["external_id"] == "evil/xss")
    assert hit["title"] == XSS_TITLE  # JSON carries it verbatim; pages escape it (test_pages.py)


@pytest.mark.slow  # exports the model to ONNX
def test_the_service_encodes_queries_with_the_onnx_export_and_ranks_as_torch_does(served_store, client):
    from dataset_catalog.embeddings.onnx_query import OnnxQueryEncoder

    with TestClient(create_app(store=served_store), raise_server_exceptions=False) as fast_client:
        assert isinstance(fast_client.app.state.catalog.encoder, OnnxQueryEncoder)  # exported at start-up
        for query in ("movie reviews sentiment", "speech recognition audio", "questions about wikipedia"):
            fast = fast_client.get("/api/search", params={"q": query, "understand": "false"}).json()["hits"]
            torch = client.get("/api/search", params={"q": query, "understand": "false"}).json()["hits"]
            assert [h["external_id"] for h in fast] == [h["external_id"] for h in torch], query
