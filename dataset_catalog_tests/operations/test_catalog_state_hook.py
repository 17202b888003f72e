from dataset_catalog.common import metadata


def test_embedded_column_only_with_a_hook(store):
    store.upsert_datasets(
        [{"source": "huggingface", "external_id": f"e/{i}", "title": "t", "enrichment_status": "enriched"} for i in range(3)]
    )
    plain = metadata.catalog_state_table(store).value
    assert "embedded" not in plain and "| huggingface | enriched | active | 3 |" in plain
    with_arg = metadata.catalog_state_table(store, lambda s: {("huggingface", "enriched", True): 2}).value
    assert "| huggingface | enriched | active | 3 | 2 |" in with_arg
    metadata.set_embedded_counts_hook(lambda s: {})
    try:
        assert "| huggingface | enriched | active | 3 | 0 |" in metadata.catalog_state_table(store).value
    finally:
        metadata.set_embedded_counts_hook(None)
