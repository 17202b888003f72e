"""The catalog before its first embedding run, and catalog URLs that name no catalog: answers,
or one CatalogConfigError that says what to do, never a driver traceback."""

from __future__ import annotations

import numpy as np
import pytest

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.catalog.vector_store import dataset_vector, nearest_datasets, read_embeddings
from dataset_catalog.errors import CatalogConfigError

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def test_vector_reads_before_the_first_embedding_find_nothing(store, corpus):
    """PostgreSQL raised ProgrammingError: the schema's bytea column was cast to real[]."""
    some_id = store.fetch_datasets()[0]["id"]
    assert dataset_vector(store, MODEL, some_id) is None
    assert read_embeddings(store) == {}
    assert nearest_datasets(store, MODEL, np.ones(384, dtype=np.float32), SearchFilters(), 5) == []


@pytest.mark.parametrize("content", [b'{"rows": [1, 2, 3]}\n', b"\x00" * 4096, b"SQLite format 3\x00" + b"\xff" * 200])
def test_a_file_that_is_not_a_sqlite_catalog_is_named_in_one_error(tmp_path, content):
    """`sqlite:////path/some.json` gave two tracebacks ending in `file is not a database`."""
    not_a_catalog = tmp_path / "some.json"
    not_a_catalog.write_bytes(content)
    with pytest.raises(CatalogConfigError) as raised:
        CatalogStore(f"sqlite:///{not_a_catalog}")
    message = str(raised.value)
    assert str(not_a_catalog) in message and "not a SQLite catalog" in message
    assert "DATASET_CATALOG_DATABASE_URL" in message and "\n" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert not_a_catalog.read_bytes() == content  # nothing was written to it
