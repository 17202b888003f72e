"""Hugging Face Hub source: the listing client, mapping of items to rows, and the windowed sync."""

SOURCE = "huggingface"  # common/sources.py
SOURCE_NAME = "Hugging Face"
