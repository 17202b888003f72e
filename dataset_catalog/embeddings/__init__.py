"""Embeddings of every catalog dataset and hybrid (semantic + keyword) search over them."""
