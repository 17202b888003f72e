"""Bounded priors, the relevance floor and paging, through the product path (search/finder.find)."""

import pytest

from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.search.finder import RELEVANCE_FLOOR, SearchRequest, find
from dataset_catalog.search.ranking import PRIOR_CAP, PRIOR_MARGIN, fused_score
from dataset_catalog_tests.fakes.corpus import HF, ds


@pytest.fixture
def embedded(store, corpus, encoder):
    embed_datasets(store, encoder)
    return store


def test_a_weakly_related_popular_dataset_stays_below_a_closely_related_unpopular_one():
    best = 0.62
    close_unknown = fused_score(0.62, 0.0, 0, 0.0, best_similarity=best)
    # Wikipedia for "named entity recognition news": 0.2 less similar, named by 500 datasets, 10M downloads
    weak_famous = fused_score(best - 0.2, 0.0, 500, 1.0, best_similarity=best)
    assert weak_famous < close_unknown
    # The formula before: the prior alone lifted it over the closer dataset.
    assert fused_score(best - 0.2, 0.0, 500, 1.0, priors="additive") > close_unknown
    # No prior lifts a dataset over one 0.19 closer, however famous it is.
    assert (PRIOR_CAP, PRIOR_MARGIN) == (0.25, 0.35)
    assert fused_score(best - 0.19, 0.0, 10**6, 1.0, best_similarity=best) < close_unknown
    # Datasets about equally close are still reordered by use.
    assert fused_score(0.61, 0.0, 20, 0.5, best_similarity=best) > close_unknown


def test_a_famous_look_alike_does_not_outrank_the_dataset_the_query_describes(store, encoder):
    rows = [
        ds(HF, "lab/news-ner", "News NER", "Named entities (people, organisations, places) tagged in news articles."),
        ds(HF, "org/wikipedia", "Wikipedia", "Cleaned articles of the English Wikipedia.", download_count=10**7),
    ]
    rows += [
        ds(HF, f"org/built-on-wiki-{n}", f"Wiki set {n}", f"Questions about {topic} written against Wikipedia.")
        for n, topic in enumerate(["history", "films", "rivers", "chemistry", "football", "opera"] * 5)
    ]
    store.upsert_datasets(rows)
    embed_datasets(store, encoder)
    from dataset_catalog.search.references import refresh_reference_counts

    refresh_reference_counts(store)
    page = find(store, SearchRequest("named entity recognition news", limit=10), encoder=encoder)
    ids = [h.external_id for h in page.hits]
    assert ids[0] == "lab/news-ner" and ids.index("org/wikipedia") > 0


def test_nonsense_has_no_good_matches_and_counts_no_facets(embedded, encoder):
    page = find(embedded, SearchRequest("zzzzqqqxx"), encoder=encoder)
    assert page.good_matches == 0
    assert all(b.count == 0 for buckets in page.facets.values() for b in buckets)
    assert page.to_dict()["good_matches"] == 0
    assert not any(h["good_match"] for h in page.to_dict()["hits"])


def test_a_real_query_has_good_matches_and_its_facets_count_them(embedded, encoder):
    page = find(embedded, SearchRequest("movie review sentiment"), encoder=encoder)
    assert 1 <= page.good_matches < page.total
    assert page.hits[0].external_id == "stanfordnlp/imdb" and page.hits[0].similarity >= RELEVANCE_FLOOR
    assert sum(b.count for b in page.facets["source"]) == page.good_matches


def test_paging_past_the_end_is_an_empty_page(embedded, encoder):
    first = find(embedded, SearchRequest("movie review sentiment", limit=10), encoder=encoder)
    past = find(embedded, SearchRequest("movie review sentiment", offset=first.total + 5, limit=10), encoder=encoder)
    assert past.hits == [] and past.total == first.total


def test_an_understood_language_filters_and_can_be_turned_off(store, encoder):
    asr = ["automatic-speech-recognition"]
    store.upsert_datasets(
        [
            ds(
                HF,
                "lab/english-asr",
                "Speech recognition corpus",
                "Read speech for speech recognition.",
                languages=["en"],
                task_categories=asr,
            ),
            ds(
                HF,
                "lab/german-asr",
                "Sprachkorpus",
                "Read speech for speech recognition.",
                languages=["de"],
                task_categories=asr,
            ),
            ds(HF, "lab/germany-maps", "Maps of Germany", "Road maps of German cities.", languages=["en"]),
        ]
    )
    embed_datasets(store, encoder)
    query = "speech recognition in German"
    understood = find(store, SearchRequest(query, limit=5), encoder=encoder)
    assert [h.external_id for h in understood.hits] == ["lab/german-asr"]
    assert [(c.kind, c.value) for c in understood.interpretation.filters] == [
        ("task", "automatic-speech-recognition"),
        ("language", "de"),
    ]
    plain = find(store, SearchRequest(query, limit=5, understand=False), encoder=encoder)
    assert plain.interpretation is None and len(plain.hits) == 3
    ignored = find(store, SearchRequest(query, limit=5, ignore=("language:de",)), encoder=encoder)
    assert [c.kind for c in ignored.interpretation.constraints] == ["task"]
    assert {h.external_id for h in ignored.hits} == {"lab/english-asr", "lab/german-asr"}


def test_understood_filters_that_nothing_meets_become_preferences(embedded, encoder):
    page = find(embedded, SearchRequest("handwritten digit images in Swahili", limit=5), encoder=encoder)
    assert page.hits and page.hits[0].external_id == "ylecun/mnist"
    assert all(c.applied == "boost" for c in page.interpretation.constraints)
    assert page.interpretation.notes
