"""What a finder sees: search requests, result pages with facets, dataset records, snippets.

Shared by the web service (dataset_catalog/service/) and the CLI so both show the same fields
the same way. The ranking itself lives in search/ranking.py; SQL in catalog/.
"""
