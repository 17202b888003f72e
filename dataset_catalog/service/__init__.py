"""The search service: a read-only ASGI app (FastAPI) with a JSON API and server-rendered pages.

`dataset-catalog serve` runs it with uvicorn. Pages and API read through dataset_catalog/search/
(records, facets, snippets) and the ranking of search/ranking.py, the same code as the CLI.
"""
