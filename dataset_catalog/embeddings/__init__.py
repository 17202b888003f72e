"""Embeddings of every catalog dataset: the model, the text embedded, the sync and the query encoder
(search over them is search/)."""
