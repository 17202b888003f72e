"""Hugging Face Hub source: the listing client, mapping of items to rows, and the windowed sync."""
