"""schema.org `Dataset` JSON-LD for dataset pages, and the same as metadata-only Croissant.

Search engines read the JSON-LD embedded in each dataset page; `/api/datasets/.../croissant`
serves Croissant 1.0 (schema.org plus the MLCommons vocabulary). Both are built from the standard
fields every source writes (common/standard_fields.py), never from a source's own metadata. The
catalog knows file names, sizes and some URLs, never checksums, so the Croissant is metadata-only:
no `distribution` or `recordSet` (a Croissant FileObject must carry both).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dataset_catalog.common.languages import language_name
from dataset_catalog.common.standard_fields import CreatorKind
from dataset_catalog.search.getting_started import citation_of
from dataset_catalog.search.records import DatasetRecord, label_words

CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
CROISSANT_VERSION = "http://mlcommons.org/croissant/1.0"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


_CREATOR_TYPES = {CreatorKind.PERSON: "Person", CreatorKind.ORGANIZATION: "Organization"}


def _creators(details: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]] | None:
    """schema.org `creator`: one Person/Organization, or a list of them."""
    found = [{"@type": _CREATOR_TYPES.get(c["kind"], "Person"), "name": c["name"]} for c in details["creators"]]
    return found[0] if len(found) == 1 else found or None


def license_url(record: DatasetRecord) -> str | None:
    spdx = record.license.id
    if spdx and any(c.isupper() for c in spdx):  # an SPDX id (ours are lower case)
        return f"https://spdx.org/licenses/{spdx}.html"
    return None


def dataset_jsonld(details: dict[str, Any], page_url: str) -> dict[str, Any]:
    """schema.org Dataset for one catalog dataset (what Google Dataset Search reads)."""
    record: DatasetRecord = details["record"]
    description = "\n\n".join(details["paragraphs"]) or details.get("subtitle") or record.title
    keywords = [label_words(t) for t in record.tasks] + [language_name(c) for c in record.languages]
    keywords += [
        t.split(":", 1)[-1] for t in details["tags"] if not t.startswith(("license:", "region:", "arxiv:", "doi:"))
    ]
    data: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "name": record.title,
        "description": description[:5000],
        "url": page_url,
        "sameAs": record.url,
        "identifier": f"{record.source}:{record.external_id}",
        "license": license_url(record) or record.license.label,
        "keywords": list(dict.fromkeys(k for k in keywords if k))[:50],
        "inLanguage": record.languages or None,
        "dateModified": _iso(record.updated_at),
        "dateCreated": _iso(details.get("created_at")),
        "isAccessibleForFree": True,
        "includedInDataCatalog": {"@type": "DataCatalog", "name": "dataset_catalog"},
    }
    data["creator"] = _creators(details)
    data["citation"] = details["citation"]
    files = details["files"]
    if files:
        data["distribution"] = [
            {
                "@type": "DataDownload",
                "name": f["name"],
                "contentSize": f"{f['bytes']} B" if f.get("bytes") else None,
                "encodingFormat": f.get("format"),
                "contentUrl": f.get("url") or record.url,
            }
            for f in files
        ]
    if details["columns"]:
        data["variableMeasured"] = details["columns"][:200]
    return _without_empty(data)


def croissant(details: dict[str, Any], page_url: str) -> dict[str, Any]:
    """Metadata-only Croissant 1.0 of one dataset (validated by mlcroissant in the tests)."""
    jsonld = dataset_jsonld(details, page_url)
    record: DatasetRecord = details["record"]
    data = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CROISSANT_VERSION,
        **{
            k: v
            for k, v in jsonld.items()
            if k not in ("@context", "@type", "distribution", "includedInDataCatalog", "citation")
        },
        # The source's own citation, else the dataset cited as its source page (BibTeX @misc, as the Hub does).
        "citeAs": citation_of(details, page_url).text,
    }
    if "creator" in data:
        creators = data["creator"] if isinstance(data["creator"], list) else [data["creator"]]
        creators = [{**c, "@type": "sc:" + c["@type"]} for c in creators]
        data["creator"] = creators[0] if len(creators) == 1 else creators
    if details.get("created_at"):
        data["datePublished"] = _iso(details["created_at"])
    version = _semantic_version(details["row"], record.updated_at)
    if version:
        data["version"] = version
    return data


def _semantic_version(row: dict[str, Any], updated_at: datetime | None) -> str | None:
    """Croissant wants MAJOR.MINOR.PATCH: an integer `version_number` a mapping keeps in
    source_meta (OpenML's does) N as N.0.0, else the source's last update as a calendar
    version (2025.9.1). With neither, `version` is left out and mlcroissant warns that it is
    recommended (as for `datePublished` without a creation date): the warnings we allow, for rows
    whose source gave no dates."""
    meta = row.get("source_meta") if isinstance(row.get("source_meta"), dict) else {}
    value = meta.get("version_number")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value}.0.0"
    if updated_at is not None:
        return f"{updated_at.year}.{updated_at.month}.{updated_at.day}"
    return None


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = [_without_empty(v) if isinstance(v, dict) else v for v in value if v not in (None, "", [])]
        elif isinstance(value, dict):
            value = _without_empty(value)
        if value not in (None, "", [], {}):
            out[key] = value
    return out


def script_json(data: dict[str, Any]) -> str:
    """JSON safe inside <script type="application/ld+json">: no "</script>" or "<!--" can close
    or comment the element, whatever strangers wrote in titles and descriptions."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
