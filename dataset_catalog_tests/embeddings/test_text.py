from dataset_catalog.embeddings.text import MAX_DESCRIPTION_CHARS, build_embedding_text, content_hash


def test_text_layout_orders_dense_fields_first_and_cleans_labels():
    text = build_embedding_text(
        {
            "title": "IMDB",
            "subtitle": "Movie reviews",
            "description": "  Fifty   thousand\nreviews. ",
            "tags": [
                "task_categories:text-classification",
                "license:mit",
                "format:parquet",
                "region:us",
                "sentiment_analysis",
                "modality:text",
            ],
            "task_categories": ["text-classification"],
        }
    )
    assert text.split("\n") == [
        "IMDB",
        "Movie reviews",
        "Tasks: text classification",
        "Tags: sentiment analysis, text",  # license/format/region dropped, task not repeated
        "Fifty thousand reviews.",
    ]


def test_text_tolerates_missing_and_malformed_fields():
    assert build_embedding_text({"external_id": "a/b", "title": None, "tags": {"x": 1}, "task_categories": 7}) == "a/b"
    assert build_embedding_text({"title": "T", "tags": "single-tag"}) == "T\nTags: single tag"


def test_long_description_is_cut_and_hash_follows_text():
    row = {"title": "T", "description": "word " * 5000}
    text = build_embedding_text(row)
    assert len(text) <= len("T\n") + MAX_DESCRIPTION_CHARS
    assert content_hash(text) == content_hash(build_embedding_text(dict(row)))
    assert content_hash(text) != content_hash(build_embedding_text({**row, "title": "U"}))
