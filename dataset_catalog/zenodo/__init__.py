"""Zenodo source: OAI-PMH harvest of datasets (set `openaire_data`, `oai_datacite`) into the catalog.

Plain code, no Dagster: `client` (paced OAI-PMH walk through oaipmh-scythe), `mapping` (one
oai_datacite record -> one version of a work), `sync` (versions collapsed into one row per
concept record, upserted in batches). The Dagster objects are in dataset_catalog/defs/zenodo.
"""

SOURCE = "zenodo"  # common/sources.py
SOURCE_NAME = "Zenodo"

SOURCE = "zenodo"  # common/sources.py
SOURCE_NAME = "Zenodo"
