import math

import pytest
import sqlalchemy as sa

from dataset_catalog.catalog.schema import datasets
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.search.finder import SearchPage, SearchRequest, find
from dataset_catalog.search.ranking import (
    KEYWORD_WEIGHT,
    POPULARITY_WEIGHT,
    REFERENCE_WEIGHT,
    InvalidQueryError,
    fused_score,
    query_tokens,
)
from dataset_catalog.search.references import refresh_reference_counts
from dataset_catalog.search.snippets import SNIPPET_CHARS
from dataset_catalog_tests.fakes.corpus import HF, KG, ds

OBVIOUS = {
    "movie review sentiment": "stanfordnlp/imdb",
    "is this film critique positive or negative": "stanfordnlp/imdb",
    "handwritten digit images": "ylecun/mnist",
    "transcribe spoken english audiobooks": "openslr/librispeech_asr",
    "predict which passengers survived the shipwreck": "yasserh/titanic-dataset",
    "detect fraudulent card payments": "mlg-ulb/creditcardfraud",
    "historical temperature and humidity measurements": "budincsevity/szeged-weather",
    "translate german sentences into english": "wmt/wmt14",
    "summarize news articles": "abisee/cnn_dailymail",
    "pneumonia in chest radiographs": "paultimothymooney/chest-xray-pneumonia",
    "song genres and danceability": "maharshipandya/spotify-tracks-dataset",
    "tweets labelled with feelings like joy and anger": "dair-ai/emotion",
    "中文新闻分类": "clue/tnews",
}


@pytest.fixture
def embedded(store, corpus, encoder):
    embed_datasets(store, encoder)
    return store


def search(store, query, *, encoder=None, model=None, filters=None, limit=10, understand=True) -> SearchPage:
    """The product path (what the CLI and the service call), relevance order."""
    request = SearchRequest(query, filters or SearchFilters(), limit=limit, understand=understand)
    return find(store, request, encoder=encoder, model=model)


def _ext_ids(page: SearchPage) -> list[str]:
    return [h.external_id for h in page.hits]


def test_obvious_queries_find_the_obvious_dataset_in_the_top_3(embedded, encoder):
    misses = {}
    for query, expected in OBVIOUS.items():
        found = _ext_ids(search(embedded, query, encoder=encoder, limit=3))
        if expected not in found:
            misses[query] = found
    assert misses == {}


def test_hits_carry_display_fields_and_both_rankings(embedded, encoder):
    result = search(embedded, "movie review sentiment", encoder=encoder, limit=5)
    assert result.modes == ["semantic", "keyword"]
    top = result.hits[0]
    assert (top.external_id, top.source, top.license.label, top.downloads, top.likes) == (
        "stanfordnlp/imdb",
        "huggingface",
        "other",
        250_000,
        300,
    )
    assert top.url == "https://example.org/huggingface/stanfordnlp/imdb"
    assert top.semantic_rank == 1 and top.keyword_rank == 1 and 0 < top.similarity <= 1
    assert "movie reviews" in top.snippet.text and len(top.snippet.text) <= SNIPPET_CHARS + 2  # + the two "…"
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)


FILTER_CASES = [
    (SearchFilters(source="kaggle"), lambda r: r["source"] == "kaggle"),
    (SearchFilters(license="CC-BY-4.0"), lambda r: r["license"] == "cc-by-4.0"),
    (SearchFilters(task="Text Classification"), lambda r: "text-classification" in r["task_categories"]),
    (SearchFilters(file_format="csv"), lambda r: "csv" in r["file_formats"]),
    (SearchFilters(min_downloads=50_000), lambda r: r["download_count"] >= 50_000),
    (
        SearchFilters(source="huggingface", task="automatic-speech-recognition"),
        lambda r: r["external_id"].endswith(("librispeech_asr", "common_voice_11_0")),
    ),
]


def test_filters_restrict_results_exactly(embedded, encoder, corpus):
    for filters, check in FILTER_CASES:
        expected = {r["external_id"] for r in corpus if check(r)}
        result = search(embedded, "speech images text tables", encoder=encoder, filters=filters, limit=100)
        assert expected and set(_ext_ids(result)) == expected, filters  # a 20-row corpus: every match is a candidate


def test_deactivated_and_deleted_rows_leave_search_at_once(embedded, encoder):
    with embedded.engine.begin() as conn:
        conn.execute(sa.update(datasets).where(datasets.c.external_id == "stanfordnlp/imdb").values(is_active=False))
        conn.execute(sa.delete(datasets).where(datasets.c.external_id == "dair-ai/emotion"))
    found = _ext_ids(search(embedded, "movie review sentiment emotion tweets", encoder=encoder, limit=100))
    assert "stanfordnlp/imdb" not in found and "dair-ai/emotion" not in found and found


def test_keyword_index_follows_edits_without_re_embedding(embedded, encoder, corpus):
    wine = next(r for r in corpus if r["external_id"] == "uciml/red-wine-quality")

    def keyword_hits(query):
        return [h.external_id for h in search(embedded, query, encoder=encoder, limit=20).hits if h.keyword_rank]

    embedded.upsert_datasets([dict(wine, title="Zymurgy measurements")])
    assert keyword_hits("zymurgy") == ["uciml/red-wine-quality"]
    embedded.upsert_datasets([dict(wine, title="Oenology measurements")])  # the old words leave the index
    assert keyword_hits("zymurgy") == [] and keyword_hits("oenology") == ["uciml/red-wine-quality"]
    if embedded.dialect == "postgresql":  # with statistics, word frequencies come from pg_stats instead of counts
        with embedded.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE datasets"))
    assert keyword_hits("the oenology of it") == ["uciml/red-wine-quality"]
    assert keyword_hits("movie reviews")[0] == "stanfordnlp/imdb"
    with embedded.engine.begin() as conn:
        conn.execute(sa.delete(datasets).where(datasets.c.external_id == "uciml/red-wine-quality"))
    assert keyword_hits("oenology") == []


ODD_QUERIES = [
    '"unbalanced quote',
    "it's o'reilly's",
    "movie* -review NEAR(sentiment) OR AND NOT",
    "'; DROP TABLE datasets; --",
    "title:imdb ^ $ @ # % & ( ) { } [ ] < > | \\ / ~ `",
    "中文新闻分类",
    "Кинорецензии и анализ тональности",
    "مراجعات الأفلام",
    "x" * 10_000,
    ("movie review " * 1000)[:10_000],
    "🙂🎬",
]


def test_odd_queries_never_crash_and_never_reach_sql_text(embedded, encoder, corpus):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(embedded.engine, "before_cursor_execute", record)
    try:
        for query in ODD_QUERIES:
            # understand=False: the words as typed ("NEAR(sentiment)" would otherwise filter to text classification)
            result = search(embedded, query, encoder=encoder, limit=5, understand=False)
            assert "semantic" in result.modes and len(result.hits) == 5, query[:40]
            understood = search(embedded, query, encoder=encoder, limit=5)
            assert understood.hits, query[:40]
    finally:
        sa.event.remove(embedded.engine, "before_cursor_execute", record)
    assert statements and embedded.count_datasets() == len(corpus)
    for fragment in ("DROP", "reilly", "NEAR", "unbalanced", "中文", "xxxx", "movie"):
        assert not [s for s in statements if fragment.lower() in s.lower()], (
            fragment
        )  # only bind parameters carry user text


def test_query_tokens_keep_only_words():
    assert query_tokens('movie* -review NEAR(x) "a" OR; DROP') == ["movie", "review", "near", "x", "drop"]
    assert query_tokens("中文 新闻") == ["中文", "新闻"]
    assert len(query_tokens(" ".join(f"w{i}" for i in range(500)))) == 32


@pytest.mark.parametrize("query", ["", "   ", "\n\t", None])
def test_empty_query_is_a_clear_error(store, query):
    with pytest.raises(InvalidQueryError, match="empty"):
        search(store, query)


def test_without_embeddings_search_is_keyword_only_and_loads_no_model(store, corpus):
    result = search(store, "movie reviews", model="not/loadable-model", limit=3)
    assert result.modes == ["keyword"] and result.hits[0].external_id == "stanfordnlp/imdb"
    assert "No embeddings" in result.notes[0]


def test_a_dataset_other_datasets_name_outranks_its_look_alike(store, encoder):
    """Two near-identical descriptions; three other datasets build on the second one. Without
    reference counts the first wins on similarity; with them the one people use comes first."""
    store.upsert_datasets(
        [
            ds(
                HF,
                "org/face-attributes",
                "Face Attributes",
                "Photos of celebrity faces, each labelled with 40 binary attributes.",
            ),
            ds(
                HF,
                "org/celeba",
                "CelebA",
                "Face images of celebrities, each annotated with 40 attributes and an identity.",
            ),
            ds(HF, "org/celeba-hq", "CelebA-HQ", "High-resolution version of CelebA."),
            ds(HF, "org/celeba-dialog", "CelebA-Dialog", "Fine-grained captions for the faces of CelebA."),
            ds(KG, "user/gan-faces", "GAN faces", "Faces generated by a GAN trained on CelebA."),
        ]
    )
    embed_datasets(store, encoder)
    query = "celebrity face photos labelled with attributes"

    def top_two():
        return _ext_ids(search(store, query, encoder=encoder, limit=5))[:2]

    assert top_two() == ["org/face-attributes", "org/celeba"]
    assert refresh_reference_counts(store).referenced == 1
    assert top_two() == ["org/celeba", "org/face-attributes"]


def test_fused_score_adds_keyword_references_and_popularity():
    base = fused_score(0.5, 0.0, None, 0.0)
    assert base == 0.5
    assert fused_score(0.5, 1.0, None, 0.0) == pytest.approx(0.5 + KEYWORD_WEIGHT)
    assert fused_score(0.5, 0.0, 9, 0.0) == pytest.approx(0.5 + REFERENCE_WEIGHT * math.log(10))
    assert fused_score(0.5, 0.0, 0, 1.0) == pytest.approx(0.5 + POPULARITY_WEIGHT)
