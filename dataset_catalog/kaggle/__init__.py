"""Kaggle source: paced API client, Meta Kaggle seed, API enrichment and latest datasets."""
