"""The parser of search/query_understanding.py: what it reads from plain words, how it applies it."""

import pytest

from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.common.licenses import COMMERCIAL_USE_FAMILIES
from dataset_catalog.search.query_understanding import BOOST, FILTER, understand


def read(query: str, **kwargs) -> dict[str, tuple[str, str]]:
    """{kind: (value, applied)} of the first constraint of each kind."""
    found: dict[str, tuple[str, str]] = {}
    for c in understand(query, **kwargs).constraints:
        found.setdefault(c.kind, (c.value, c.applied))
    return found


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("question answering dataset in German", "de"),  # name after "in"
        ("German summarization dataset", "de"),  # adjective before the topic
        ("news articles in french", "fr"),  # lower case
        ("english speech", "en"),
        ("Bengali data for generating text", "bn"),  # langcodes calls it Bangla
        ("QA in Deutsch", "de"),  # the language's own name
        ("lang:ja reviews", "ja"),  # a code, where it is written as one
    ],
)
def test_languages_by_name_adjective_and_code_are_filters(query, code):
    assert read(query)["language"] == (code, FILTER)


def test_words_that_only_resemble_a_language_name_are_not_languages():
    # langcodes' name search is fuzzy: "arbitrary" finds Arabic, "the" a language of Togo
    assert "language" not in read("the arbitrary person parsing a sentence")


def test_a_second_language_is_a_boost():
    interpretation = understand("translation english french")
    assert [(c.value, c.applied) for c in interpretation.constraints if c.kind == "language"] == [
        ("en", FILTER),
        ("fr", BOOST),
    ]


@pytest.mark.parametrize(
    ("query", "task"),
    [
        ("NER corpus of news", "token-classification"),
        ("named entity recognition news", "token-classification"),
        ("part-of-speech tagging dataset in Czech", "token-classification"),
        ("QA over Wikipedia", "question-answering"),
        ("data for answering questions about science", "question-answering"),
        ("visual question answering on charts", "visual-question-answering"),  # the longer phrase wins
        ("speech recognition for call centres", "automatic-speech-recognition"),
        ("summarization of scientific papers", "summarization"),
        ("Portuguese data for classifying texts", "text-classification"),
    ],
)
def test_tasks_with_synonyms_are_hub_task_categories(query, task):
    assert read(query)["task"] == (task, FILTER)


def test_lower_case_acronyms_are_words_not_tasks():
    assert "task" not in read("qa engineers' bug reports")


@pytest.mark.parametrize(("query", "modality"), [("audio of birds", "audio"), ("images of cats", "image")])
def test_modalities_are_boosts_and_keep_their_words(query, modality):
    interpretation = understand(query)
    assert read(query)["modality"] == (modality, BOOST)
    assert interpretation.topic == query


@pytest.mark.parametrize(
    ("query", "sizes", "applied"),
    [
        ("text classification with over a million examples", ("1M<n<10M", "10M<n<100M"), FILTER),
        ("tweets, more than 500k rows", ("100K<n<1M", "1M<n<10M"), FILTER),
        ("small QA dataset, under 10k examples", ("n<1K", "1K<n<10K"), FILTER),
        ("fewer than 1,000 examples of poems", ("n<1K",), FILTER),
        ("small corpus of poems", ("n<1K", "1K<n<10K"), BOOST),
    ],
)
def test_sizes_become_hub_size_categories(query, sizes, applied):
    size = next(c for c in understand(query).constraints if c.kind == "size")
    assert size.sizes[: len(sizes)] == sizes and size.applied == applied
    if sizes[0] == "n<1K":
        assert "10K<n<100K" not in size.sizes
    else:
        assert "n<1K" not in size.sizes


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("question answering data I can use commercially", "commercial"),
        ("sentiment corpus for commercial use", "commercial"),
        ("German summarization dataset with a permissive license", "commercial"),
        ("images under a non-commercial licence", "non-commercial"),
        ("poems with no derivatives", "no-derivatives"),
    ],
)
def test_licence_intent_maps_to_licence_families(query, value):
    assert read(query)["license"] == (value, FILTER)


def test_commercial_use_filters_on_the_licence_families_that_allow_it():
    filters = understand("text classification data I can use commercially").search_filters(SearchFilters())
    assert set(filters.license_families) == COMMERCIAL_USE_FAMILIES
    assert {"cc-by", "mit", "apache", "cc0"} <= set(filters.license_families)
    assert not {"cc-by-nc", "cc-by-nc-sa", "other", "unknown"} & set(filters.license_families)
    assert filters.task == "text-classification"


def test_sources_by_name():
    assert read("tabular churn data on Kaggle")["source"] == ("kaggle", FILTER)


def test_sources_by_the_aliases_their_packages_declare():
    """The read side names no source: "the hub" comes from huggingface/__init__.py's SOURCE_ALIASES."""
    assert read("speech corpora on the hub")["source"] == ("huggingface", FILTER)
    assert read("speech corpora on OpenML")["source"] == ("openml", FILTER)


def test_constraint_words_leave_the_topic_and_become_filters():
    interpretation = understand("summarization of scientific papers in German")
    assert interpretation.topic == "of scientific papers"
    filters = interpretation.search_filters(SearchFilters())
    assert (filters.task, filters.language) == ("summarization", "de")


def test_a_filter_the_person_set_wins_over_the_understood_one():
    filters = understand("question answering in German").search_filters(SearchFilters(language="fr"))
    assert (filters.language, filters.task) == ("fr", "question-answering")


def test_a_query_with_no_constraint_is_left_as_it_is():
    interpretation = understand("historical temperature and humidity measurements")
    assert interpretation.constraints == ()
    assert interpretation.topic == "historical temperature and humidity measurements"
    assert interpretation.search_filters(SearchFilters()) == SearchFilters()


def test_a_query_that_is_only_a_constraint_filters_and_keeps_the_query_as_topic():
    interpretation = understand("German")
    assert [(c.kind, c.value, c.applied) for c in interpretation.constraints] == [("language", "de", FILTER)]
    assert interpretation.topic == "German"  # nothing else to match: the whole query still ranks


def test_an_ignored_constraint_is_not_read_and_its_words_stay():
    interpretation = understand("question answering in German", ignore=("language:de",))
    assert [c.kind for c in interpretation.constraints] == ["task"]
    assert "German" in interpretation.topic
    assert interpretation.ignored == ("language:de",)


def test_the_interpretation_says_what_was_read_and_how_it_is_applied():
    data = understand("question answering dataset in German").to_dict()
    assert {"kind": "language", "value": "de", "label": "German", "text": "in German", "applied": "filter"} in data[
        "constraints"
    ]
    assert understand("question answering dataset in German").summary() == (
        "task question answering (filter) · language German (filter)"
    )
