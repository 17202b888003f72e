from dataset_catalog.search.facets import MAX_BUCKETS, facet_counts


def row(source="huggingface", license=None, tasks=(), languages=(), formats=()):
    return {
        "source": source,
        "license": license,
        "task_categories": list(tasks),
        "languages": list(languages),
        "file_formats": list(formats),
    }


def test_facets_count_normalised_values_with_the_filter_value_of_each_bucket():
    rows = [
        row("kaggle", "CC0: Public Domain", formats=["CSV"], languages=["German"]),
        row("huggingface", "cc0-1.0", tasks=["text_classification"], languages=["de", "deu"], formats=["csv"]),
        row("huggingface", "cc-by-4.0", tasks=["Text Classification"], languages=["en"]),
        row("kaggle", "Other (specified in description)"),
        row("kaggle", None),
    ]
    facets = facet_counts(rows, {"language": "de"})
    as_dict = lambda name: {b.value: (b.label, b.count) for b in facets[name]}  # noqa: E731
    assert as_dict("source") == {"kaggle": ("Kaggle", 3), "huggingface": ("Hugging Face", 2)}
    assert as_dict("license") == {
        "CC0-1.0": ("CC0-1.0", 2),
        "CC-BY-4.0": ("CC-BY-4.0", 1),
        "other": ("Other", 1),
        "unknown": ("Unknown", 1),
    }
    assert as_dict("license_family")["cc0"] == ("CC0 (public domain)", 2)
    assert as_dict("task") == {"text-classification": ("Text classification", 2)}
    assert as_dict("language") == {"de": ("German", 2), "en": ("English", 1)}  # de + deu in one row count once
    assert as_dict("format") == {"csv": ("csv", 2)}
    assert [b.value for b in facets["language"] if b.selected] == ["de"]


def test_a_selected_value_is_listed_even_when_rare_and_buckets_are_bounded():
    rows = [row(tasks=[f"task-{i}"] * 1) for i in range(40)] + [row(tasks=["common"]) for _ in range(5)]
    facets = facet_counts(rows, {"task": "task-39"})
    values = [b.value for b in facets["task"]]
    assert values[0] == "common" and "task-39" in values and len(values) <= MAX_BUCKETS + 1
