"""Embeddings: the `dataset_embeddings` asset, the model resource, its schedule and coverage check."""
