"""Hugging Face Hub source: client, mapping, sync and the `hf_datasets` asset."""
