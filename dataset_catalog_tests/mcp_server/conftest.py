"""The MCP server's catalog: the shared test corpus and the service's rows, MNIST with the way to
load it and its citation, and one dataset with more languages, files and text than a tool shows."""

from __future__ import annotations

import pytest

from dataset_catalog.common.standard_fields import file_entry
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.service.app import open_service
from dataset_catalog_tests.fakes.corpus import CORPUS, HF, ds
from dataset_catalog_tests.fakes.service_corpus import SERVICE_ROWS

MNIST = ("huggingface", "ylecun/mnist")
MNIST_LOAD = 'datasets.load_dataset("ylecun/mnist")'
MNIST_CITATION = "@article{lecun1998gradient, title={Gradient-based learning applied to document recognition}}"
LANGUAGES = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "sv",
    "da",
    "fi",
    "pl",
    "cs",
    "sk",
    "hu",
    "ro",
    "bg",
    "el",
    "tr",
    "ru",
    "uk",
    "ar",
    "he",
    "fa",
    "hi",
    "bn",
    "ur",
    "ta",
    "te",
    "ja",
    "ko",
    "zh",
    "vi",
    "th",
    "id",
]
BIG = ds(
    HF,
    "polyglot/parallel-sentences",
    "Parallel sentences in thirty-four languages",
    "Aligned parallel sentences for machine translation between many languages. " * 200,
    task_categories=["translation"],
    languages=LANGUAGES,
    file_formats=["parquet"],
    license="cc-by-4.0",
    files=[file_entry(f"part-{n:04d}.parquet", size_bytes=1000 + n) for n in range(120)],
    column_names=[f"sentence_{code}" for code in LANGUAGES] * 3,
)


def catalog_rows() -> list[dict]:
    rows = [dict(r) for r in CORPUS + SERVICE_ROWS]
    for row in rows:
        if (row["source"], row["external_id"]) == MNIST:
            row.update(load_code=MNIST_LOAD, load_language="python", citation=MNIST_CITATION)
    return [*rows, dict(BIG)]


@pytest.fixture
def mcp_rows(store) -> list[dict]:
    rows = catalog_rows()
    store.upsert_datasets([dict(r) for r in rows])
    return rows


@pytest.fixture
def mcp_service(store, mcp_rows, encoder):
    """The catalog opened the way `dataset-catalog mcp` opens it (read-only, vectors loaded)."""
    embed_datasets(store, encoder)
    return open_service(store, encoder=encoder)


@pytest.fixture
def keyword_only_service(store, mcp_rows):
    """The same rows before dataset_embeddings has run."""
    return open_service(store)
