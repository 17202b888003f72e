"""Kaggle source: paced API client, Meta Kaggle seed, API enrichment and latest datasets."""

SOURCE = "kaggle"  # common/sources.py
SOURCE_NAME = "Kaggle"
