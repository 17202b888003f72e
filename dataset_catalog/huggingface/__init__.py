"""Hugging Face Hub source: the listing client, mapping of items to rows, and the windowed sync."""

SOURCE = "huggingface"  # common/sources.py
SOURCE_NAME = "Hugging Face"
SOURCE_ALIASES = ("hf", "the hub", "hf hub")  # what a query may call it ("datasets on the hub")
