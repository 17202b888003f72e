"""One dataset of each source with the standard fields their mappings write (how to load it, a
citation or none, creators, files), for the dataset page's "how to use it" and "cite it", and a
multilingual benchmark with many languages and licenses of one family for the results page."""

from __future__ import annotations

from datetime import UTC, datetime

from dataset_catalog.common.standard_fields import CreatorKind, LoadLanguage, creators, file_entry
from dataset_catalog.huggingface.mapping import load_snippet
from dataset_catalog.kaggle.mapping import ref_fields
from dataset_catalog_tests.fakes.corpus import HF, KG, ds

GLUE_BIBTEX = "@inproceedings{wang2019glue,\n  title={GLUE: A Multi-Task Benchmark},\n  author={Wang, Alex and Singh, Amanpreet},\n  year={2019}\n}"
ZENODO_CITATION = "Rossi, M.; Bianchi, L. (2024). Alpine glacier photos (Version 2) [Data set]. Zenodo. https://doi.org/10.5281/zenodo.4242"
MANY_LANGUAGES = ["en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "cs", "sk", "sl", "hr", "sr", "bg"]
MANY_LANGUAGES += ["ro", "hu", "fi", "et", "lv", "lt", "sv", "da", "no", "is", "ga", "cy", "eu", "ca", "gl"]

GETTING_STARTED_ROWS = [
    ds(
        HF,
        "nyu-mll/glue-bench",
        "GLUE evaluation benchmark",
        "The General Language Understanding Evaluation benchmark: nine English sentence understanding tasks.",
        tags=[
            "task_categories:text-classification",
            "task_ids:natural-language-inference",
            "multilinguality:monolingual",
            "annotations_creators:crowdsourced",
            "arxiv:1804.07461",
            "language:en",
            "region:us",
        ],
        task_categories=["text-classification"],
        languages=["en"],
        license="cc-by-4.0",
        download_count=900_000,
        row_count=1_400_000,
        citation=GLUE_BIBTEX,
        load_code=load_snippet("nyu-mll/glue-bench", ["cola", "sst2", "mrpc"]),
        load_language=LoadLanguage.PYTHON,
        creators=creators("nyu-mll", kind=CreatorKind.ORGANIZATION),
        source_updated_at=datetime(2026, 11, 30, tzinfo=UTC),
    ),
    ds(
        KG,
        "someone/titanic-evaluation",
        "Titanic passengers evaluation benchmark",
        "Passenger list of the Titanic with survival, for a classic tabular evaluation benchmark.",
        file_formats=["csv"],
        license="CC BY 3.0",
        download_count=40_000,
        row_count=891,
        **ref_fields("someone/titanic-evaluation"),
        files=[file_entry("train.csv", size_bytes=61_194, rows=891, file_format="csv")],
        source_updated_at=datetime(2026, 11, 20, tzinfo=UTC),
    ),
    ds(
        "openml",
        "61",
        "iris evaluation benchmark",
        "Fisher's iris measurements, the evaluation benchmark of every classification method.",
        file_formats=["arff"],
        license="Public",
        row_count=150,
        citation="Fisher, R.A. (1936). The use of multiple measurements in taxonomic problems.",
        load_code="import openml\n\ndataset = openml.datasets.get_dataset(61)\n"
        "X, y, categorical, names = dataset.get_data(target=dataset.default_target_attribute)",
        load_language=LoadLanguage.PYTHON,
        creators=creators("R.A. Fisher"),
        files=[file_entry("dataset_61.arff", url="https://www.openml.org/data/download/61/iris.arff")],
        source_updated_at=datetime(2026, 10, 1, tzinfo=UTC),
    ),
    ds(
        "zenodo",
        "4242",
        "Alpine glacier photos for an evaluation benchmark",
        "Photos of alpine glaciers over twenty years, an image evaluation benchmark of change detection.",
        file_formats=["jpg"],
        license="cc-by-4.0",
        citation=ZENODO_CITATION,
        load_code="https://doi.org/10.5281/zenodo.4242",
        load_language=LoadLanguage.URL,
        creators=[*creators("Rossi, M."), *creators("Bianchi, L.")],
        source_updated_at=datetime(2026, 12, 1, tzinfo=UTC),
    ),
    ds(
        HF,
        "polyglot/europarl-evaluation",
        "Europarl multilingual evaluation benchmark",
        "Parliament proceedings in many European languages, a machine translation evaluation benchmark.",
        tags=["task_categories:translation"],
        task_categories=["translation"],
        languages=MANY_LANGUAGES,
        license="cc-by-sa-4.0",
        download_count=5_000,
        load_code=load_snippet("polyglot/europarl-evaluation", []),
        load_language=LoadLanguage.PYTHON,
        source_updated_at=datetime(2026, 6, 1, tzinfo=UTC),
    ),
]
