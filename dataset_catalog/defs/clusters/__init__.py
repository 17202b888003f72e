"""Duplicate clusters: the `dataset_clusters` asset and its daily schedule."""
