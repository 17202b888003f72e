"""What a catalog row says about which data it is: the evidence duplicate links are built from.

Read from standard fields and text only (title, url, description, citation, the source's raw
payload as JSON text), with one table of address patterns for the four catalogs: no branch on a
row's source. A row's *own* identifiers come from its page address (and a DOI it carries as its
own); the identifiers it *cites* are every catalog address, DOI or data URL in its texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

# Catalog pages and DOIs, each normalised to "<catalog>:<id>" (case-folded where the catalog is).
_CATALOG_ADDRESSES = (
    ("huggingface", re.compile(r"huggingface\.co/datasets/([A-Za-z0-9][\w.\-]*(?:/[\w.\-]+)?)", re.I)),
    ("kaggle", re.compile(r"kaggle\.com/(?:datasets/)?([\w\-]+/[\w\-]+)", re.I)),
    ("openml", re.compile(r"openml\.org/(?:d/|search\?type=data(?:&[\w=]+)*&id=|api/v1/json/data/)(\d+)", re.I)),
    ("zenodo", re.compile(r"zenodo\.org/(?:records?|deposit)/(\d+)", re.I)),
    ("zenodo", re.compile(r"10\.5281/zenodo\.(\d+)", re.I)),
)
_KAGGLE_NOT_DATASETS = frozenset({"competitions", "code", "discussions", "models", "c", "docs", "learn", "user"})
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>\\,;)\]}]+)", re.I)
_URL = re.compile(r"https?://([^\s\"'<>\\)\]}]+)", re.I)
_PAPERSWITHCODE = re.compile(r'"paperswithcode_id"\s*:\s*"([\w\-]+)"')
# Addresses that say nothing about which data a row holds: licences, docs, code hosting roots.
_GENERIC_HOSTS = re.compile(
    r"^(?:www\.)?(?:creativecommons\.org|opensource\.org|spdx\.org|github\.com/?$|huggingface\.co/(?:docs|spaces|papers)"
    r"|schema\.org|w3\.org|doi\.org/?$|arxiv\.org/?$|orcid\.org|twitter\.com|x\.com|linkedin\.com|youtube\.com"
    r"|medium\.com|en\.wikipedia\.org|img\.shields\.io|colab\.research\.google\.com)",
    re.I,
)
MAX_TEXT_SCANNED = 200_000  # a huge card's tail holds no more addresses worth the scan


@dataclass(frozen=True)
class RowSignals:
    """One row's evidence; `row_id` is its catalog id."""

    row_id: int
    own: frozenset[str]  # identifiers of this row: "huggingface:org/name", "zenodo:123", "doi:..."
    cited: frozenset[str]  # catalog identifiers and DOIs named in its texts, its own left out
    origins: frozenset[str]  # other data addresses it names (an author's page, a UCI page), normalised
    paperswithcode: str | None
    row_count: int | None
    columns: frozenset[str] = field(default_factory=frozenset)


def catalog_identifiers(text: str) -> set[str]:
    """Every catalog address and Zenodo DOI in `text`, as "<catalog>:<id>"."""
    found = set()
    for catalog, pattern in _CATALOG_ADDRESSES:
        for match in pattern.finditer(text):
            value = match.group(1).rstrip(".")
            if catalog == "kaggle" and value.split("/", 1)[0].lower() in _KAGGLE_NOT_DATASETS:
                continue
            found.add(f"{catalog}:{value.lower() if catalog != 'openml' else value}")
    return found


def _dois(text: str) -> set[str]:
    return {f"doi:{m.group(1).rstrip('.').lower()}" for m in _DOI.finditer(text) if "zenodo." not in m.group(1).lower()}


def _origins(text: str) -> set[str]:
    """Data addresses outside the four catalogs, without scheme, www., query or trailing slash."""
    found = set()
    for match in _URL.finditer(text):
        address = match.group(1).split("#", 1)[0].split("?", 1)[0].rstrip("/.").lower()
        address = address.removeprefix("www.")
        if "/" not in address or _GENERIC_HOSTS.match(address) or catalog_identifiers("//" + address):
            continue  # a bare host names no data; catalog pages are identifiers, not origins
        if re.search(r"huggingface\.co|kaggle\.com|openml\.org|zenodo\.org|doi\.org", address):
            continue
        found.add(address)
    return found


def _texts(row: Mapping[str, Any]) -> str:
    meta = row.get("source_meta")
    meta_text = meta if isinstance(meta, str) else orjson.dumps(meta, default=str).decode() if meta else ""
    parts = [row.get("description") or "", row.get("citation") or "", meta_text]
    return "\n".join(parts)[:MAX_TEXT_SCANNED]


def _column_names(row: Mapping[str, Any]) -> frozenset[str]:
    names = row.get("column_names") or []
    return frozenset(n.strip().lower() for n in names if isinstance(n, str) and n.strip())


def row_signals(row: Mapping[str, Any]) -> RowSignals:
    """The evidence of one catalog row (a dict with the datasets columns it has)."""
    own = catalog_identifiers(row.get("url") or "")
    texts = _texts(row)
    cited = catalog_identifiers(texts) | _dois(texts)
    pwc = _PAPERSWITHCODE.search(texts)
    row_count = row.get("row_count")
    return RowSignals(
        row_id=int(row["id"]),
        own=frozenset(own),
        cited=frozenset(cited - own),  # a Zenodo row's own DOI is its page, not a citation
        origins=frozenset(_origins(texts)),
        paperswithcode=pwc.group(1).lower() if pwc else None,
        row_count=int(row_count) if isinstance(row_count, int) and row_count > 0 else None,
        columns=_column_names(row),
    )
