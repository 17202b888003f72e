import numpy as np

from dataset_catalog.catalog.checks import embedding_coverage
from dataset_catalog.catalog.embeddings import EmbeddingRow, ensure_embedding_schema, write_embeddings
from dataset_catalog.common import metadata


def test_catalog_state_and_coverage_count_real_embeddings(store):
    store.upsert_datasets(
        [{"source": "huggingface", "external_id": f"e/{i}", "title": "t", "enrichment_status": "enriched"} for i in range(3)]
    )
    assert "| huggingface | enriched | active | 3 | 0 |" in metadata.catalog_state_table(store).value
    assert embedding_coverage(store) == (0, 3)
    ensure_embedding_schema(store, 4)
    ids = sorted(r["id"] for r in store.fetch_datasets())
    vector = np.ones(4, dtype=np.float32) / 2
    write_embeddings(store, "m", [EmbeddingRow(dataset_id=i, content_hash="h", vector=vector) for i in ids[:2]])
    assert "| huggingface | enriched | active | 3 | 2 |" in metadata.catalog_state_table(store).value
    assert embedding_coverage(store) == (2, 3)
