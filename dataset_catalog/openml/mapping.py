"""OpenML records -> catalog rows: a pure function of (listing item, details).

OpenML's JSON is converted from XML, with its traps: numbers come as text ("150.0"), a list of
one element comes as that element (`"tag": "uci"`), an empty element as `[]` or `{}`. Every
field is read tolerantly; only an item without a usable `did` or `name` is malformed.

`details` is what the detail calls (data/{id}, data/features/{id}, and data/qualities/{id} when
the listing carried no qualities) brought, reduced to what the row needs. It is kept in the
row's `source_meta`, with the listing's version and md5 it was fetched for: a later run whose
listing shows the same version and md5 rebuilds the row from it with no detail call.
"""

from __future__ import annotations

import hashlib
from typing import Any, NamedTuple

import orjson

from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.common.cleaning import clean_float, clean_int, clean_str_list, clean_text, parse_datetime
from dataset_catalog.common.plain_text import markup_to_text
from dataset_catalog.common.standard_fields import LoadLanguage, citation, creators, file_entry
from dataset_catalog.openml import SOURCE

# Bump when map_row changes what it derives, so the next sync rewrites every row (the hash
# covers the inputs, not the row).
# 2: the standard fields (files, creators, citation, load_code); 3: load_code a runnable snippet
MAPPING_VERSION = b"openml-mapping-3"
DATASET_URL = "https://www.openml.org/d/{id}"
MAX_COLUMN_NAMES = 500
# Qualities kept (listing or data/qualities); the listing carries these by default.
QUALITIES = (
    "NumberOfInstances",
    "NumberOfFeatures",
    "NumberOfClasses",
    "NumberOfMissingValues",
    "NumberOfInstancesWithMissingValues",
    "NumberOfNumericFeatures",
    "NumberOfSymbolicFeatures",
)
_DESCRIPTION_FIELDS = (
    "description",
    "creator",
    "contributor",
    "collection_date",
    "upload_date",
    "licence",
    "language",
    "default_target_attribute",
    "row_id_attribute",
    "ignore_attribute",
    "citation",
    "original_data_url",
    "paper_url",
    "url",
    "parquet_url",
    "format",
    "tag",
    "version_label",
)
_NUMERIC_TYPES = {"numeric", "real", "integer"}


class MalformedRecord(ValueError):
    """A listing item that can't become a catalog row; the message says why."""


class ListingEntry(NamedTuple):
    """The fields of a listing item the sync decides on."""

    dataset_id: int
    version: int | None
    md5: str | None
    status: str
    item: dict[str, Any]  # the item, cleaned, as kept in source_meta

    @property
    def external_id(self) -> str:
        return str(self.dataset_id)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def fingerprint(self) -> list:
        """What says the dataset's data or description changed: its version and file checksum."""
        return [self.version, self.md5]


def _one_or_many(value: Any) -> list:
    """XML-converted JSON: a list, one element, or an empty element ([] / {} / "")."""
    if value is None or value == "" or value == {}:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any, max_chars: int = 2_000) -> str | None:
    """Text from a value that may be a list of texts (several creators) or an empty element."""
    parts = [t for t in (clean_text(v, max_chars) for v in _one_or_many(value)) if t]
    return ", ".join(parts)[:max_chars] or None


def _qualities(raw: Any) -> dict[str, float]:
    found = {}
    for quality in _one_or_many(raw):
        if isinstance(quality, dict) and quality.get("name") in QUALITIES:
            value = clean_float(quality.get("value"))
            if value is not None:
                found[quality["name"]] = value
    return found


def read_listing_item(item: Any) -> ListingEntry:
    """Raise MalformedRecord unless the item has a positive integer `did` and a name."""
    if not isinstance(item, dict):
        raise MalformedRecord(f"not an object: {type(item).__name__}")
    raw_id = item.get("did")
    dataset_id = (
        raw_id if type(raw_id) is int else int(raw_id) if isinstance(raw_id, str) and raw_id.isdigit() else None
    )
    if dataset_id is None or dataset_id <= 0:
        raise MalformedRecord(f"missing or invalid 'did' ({str(raw_id)[:40]!r})")
    name = clean_text(item.get("name"), 512)
    if not name:
        raise MalformedRecord("missing or invalid 'name'")
    status = clean_text(item.get("status"), 32) or "active"
    version = clean_int(item.get("version"))
    md5 = clean_text(item.get("md5_checksum"), 64)
    kept = {
        "did": dataset_id,
        "name": name,
        "version": version,
        "status": status,
        "md5_checksum": md5,
        "format": clean_text(item.get("format"), 32),
        "file_id": clean_int(item.get("file_id")),
        "qualities": _qualities(item.get("quality")),
        "tags": clean_str_list(_one_or_many(item.get("tags"))),
    }
    return ListingEntry(dataset_id, version, md5, status, kept)


def reduce_details(description: dict[str, Any], features: list[Any], qualities: list[Any] | None) -> dict[str, Any]:
    """What the row needs of the detail calls' answers (kept in source_meta)."""
    kept: dict[str, Any] = {}
    for name in _DESCRIPTION_FIELDS:
        if name == "tag":
            kept["tags"] = clean_str_list(_one_or_many(description.get("tag")))
        elif name == "description":
            kept[name] = clean_text(_text(description.get(name), 20_000), 20_000)
        else:
            kept[name] = _text(description.get(name), 2_000)
    names, targets = [], {}
    for feature in features:
        if not isinstance(feature, dict):
            continue
        name = clean_text(feature.get("name"), 256)
        if not name:
            continue
        if len(names) < MAX_COLUMN_NAMES:
            names.append(name)
        if str(feature.get("is_target")).lower() == "true":
            targets[name] = clean_text(feature.get("data_type"), 32)
    kept["features"] = {"count": sum(1 for f in features if isinstance(f, dict)), "names": names, "targets": targets}
    if qualities is not None:
        kept["qualities"] = _qualities(qualities)
    return kept


def _task_categories(target: str | None, targets: dict[str, Any], classes: float | None) -> list[str]:
    if not target:
        return []
    if classes and classes >= 2:
        return ["tabular-classification"]
    types = {targets.get(t.strip()) for t in target.split(",")}
    return ["tabular-regression"] if types and types <= _NUMERIC_TYPES else []


def _files(details: dict[str, Any], listed_format: str | None, rows: int | None) -> list[dict[str, Any]]:
    """The data file (ARFF or whatever `format` says) and its Parquet copy, as the details link them."""
    files = []
    for url, file_format in (
        (details.get("url"), details.get("format") or listed_format),
        (details.get("parquet_url"), "parquet"),
    ):
        if url and url.startswith(("https://", "http://")):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            files.append(file_entry(name, url=url, rows=rows, file_format=file_format.lower() if file_format else None))
    return files


def hash_inputs(entry: ListingEntry, details: dict[str, Any] | None) -> str:
    """The row's sync hash: the row is a pure function of these inputs."""
    digest = hashlib.sha256(MAPPING_VERSION)
    digest.update(orjson.dumps([entry.item, details], option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def map_row(entry: ListingEntry, details: dict[str, Any] | None, details_for: list | None) -> dict[str, Any]:
    """The catalog row of a listed dataset. `details` None: a dataset we never fetched details
    of (an inactive one); the row then carries what the listing says. `details_for` is the
    listing fingerprint (version, md5) the details were fetched for."""
    item, details = entry.item, details or {}
    qualities = {**item["qualities"], **(details.get("qualities") or {})}
    features = details.get("features") or {}
    target = details.get("default_target_attribute")
    upload = parse_datetime(details.get("upload_date"))
    formats = [f.lower() for f in (details.get("format") or item.get("format"),) if f]
    if details.get("parquet_url"):
        formats.append("parquet")
    description = markup_to_text(details.get("description")) or None
    row: dict[str, Any] = {
        "source": SOURCE,
        "external_id": entry.external_id,
        "title": item["name"],
        "subtitle": f"Version {entry.version}" if entry.version is not None else None,
        "url": DATASET_URL.format(id=entry.dataset_id),
        "description": description,
        "tags": list(dict.fromkeys([*item["tags"], *(details.get("tags") or [])])),
        "task_categories": _task_categories(target, features.get("targets") or {}, qualities.get("NumberOfClasses")),
        "languages": [details["language"]] if details.get("language") else [],
        "license": clean_text(details.get("licence"), 256),
        "file_formats": list(dict.fromkeys(formats)),
        "row_count": clean_int(qualities.get("NumberOfInstances")),
        "column_names": features.get("names") or [],
        "source_created_at": upload,
        "source_updated_at": upload,
        "is_active": entry.active,
        "enrichment_status": EnrichmentStatus.ENRICHED,  # nothing more to fetch after the detail calls
        "creators": creators(details.get("creator")),
        "citation": citation(details.get("citation")),
        "load_code": (
            "import openml\n\n"
            f"dataset = openml.datasets.get_dataset({entry.dataset_id})\n"
            "X, y, categorical, names = dataset.get_data(target=dataset.default_target_attribute)"
        ),
        "load_language": LoadLanguage.PYTHON,
    }
    row["files"] = _files(details, item.get("format"), row["row_count"])
    row["source_meta"] = {
        "version_number": entry.version,  # service/schema_org.py reads `version_number`
        "status": entry.status,
        "md5_checksum": entry.md5,
        "number_of_features": clean_int(features.get("count") or qualities.get("NumberOfFeatures")),
        "number_of_classes": clean_int(qualities.get("NumberOfClasses")),
        "number_of_missing_values": clean_int(qualities.get("NumberOfMissingValues")),
        "number_of_instances_with_missing_values": clean_int(qualities.get("NumberOfInstancesWithMissingValues")),
        "default_target_attribute": target,
        "openml": {"listing": item, "details": details or None, "details_for": details_for},
    }
    row["sync_hash"] = hash_inputs(entry, details or None)
    return row


def stored_details(row: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list | None]:
    """(details, the listing fingerprint they were fetched for) kept in a catalog row, if any."""
    meta = row.get("source_meta") if row else None
    openml = meta.get("openml") if isinstance(meta, dict) else None
    if not isinstance(openml, dict) or not isinstance(openml.get("details"), dict):
        return None, None
    details_for = openml.get("details_for")
    return openml["details"], details_for if isinstance(details_for, list) else None
