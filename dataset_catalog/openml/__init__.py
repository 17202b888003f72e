"""OpenML source: its JSON API client (paced, whole-call deadlines), the mapping of its records to
catalog rows, and the sync that fetches details only of new and changed datasets (no Dagster)."""

SOURCE = "openml"  # common/sources.py
SOURCE_NAME = "OpenML"
