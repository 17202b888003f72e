"""Map one raw `/api/datasets` item (the Hub's JSON) to a catalog row.

We map the raw JSON rather than huggingface_hub's `DatasetInfo`: its constructor raises on a
missing `id` or an unparseable date, which inside the library's generator would end the whole
listing. Here a bad item is reported and skipped, and the rest of the listing goes on.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.catalog.upsert_statements import JsonText
from dataset_catalog.common.cleaning import (
    clean_int,
    clean_json,
    clean_str_list,
    clean_text,
    parse_datetime,
)
from dataset_catalog.common.standard_fields import MAX_FILES, CreatorKind, LoadLanguage, citation, creators, file_entry

SOURCE = "huggingface"
# Bump when map_item (or the common/cleaning.py functions it calls) changes what it derives from
# an item, so the next sync rewrites every row: the hash covers the raw item, not the row.
# 3: languages stored as ISO codes; 4: the standard fields (files, creators, citation, load_code);
# 5: load_code a runnable snippet naming the card's first configuration and listing the others
MAPPING_VERSION = b"hf-mapping-5"
SHOWN_CONFIGS = 8
MAX_RAW_META_BYTES = 64 * 1024
MAX_ID_CHARS = 400
# Repo ids never contain whitespace, NUL or lone surrogates (from broken JSON escapes; no database takes them).
_ID_PATTERN = re.compile(r"[^\s\x00\ud800-\udfff]+")


class MalformedItem(ValueError):
    """An item that can't become a catalog row; the message says why."""


def raw_meta_and_hash(item: dict) -> tuple[JsonText, str]:
    """The item to keep as `source_meta`, and the row's sync hash, from one serialisation.

    The row is a pure function of the item, so hashing the raw item is enough. Most items are
    clean JSON and are stored as they came; ones with NUL bytes, broken surrogates or huge
    text are deep-cleaned first.
    """
    try:
        raw = orjson.dumps(item)
        clean = b"\\u0000" not in raw and len(raw) <= MAX_RAW_META_BYTES
    except (orjson.JSONEncodeError, TypeError):
        raw, clean = None, False
    if raw is None or not clean:
        raw = orjson.dumps(clean_json(item))
    # Stored as this very text: serialising the item again for the database would cost as much.
    digest = hashlib.sha256(MAPPING_VERSION)
    digest.update(raw)
    return JsonText(raw.decode()), digest.hexdigest()


class MappedItem(NamedTuple):  # a NamedTuple: built once per listed item, several times cheaper than a frozen dataclass
    external_id: str
    last_modified: datetime
    row: dict[str, Any]
    cleaned: bool  # some field had the wrong type or bad text and was dropped or repaired


def item_id(item: Any) -> str | None:
    """The item's id if it has a usable one (for logging malformed items too)."""
    if not isinstance(item, dict):
        return None
    raw = item.get("id")
    if type(raw) is not str or not 0 < len(raw) <= MAX_ID_CHARS or not _ID_PATTERN.fullmatch(raw):
        return None
    return raw


def last_modified_of(item: dict) -> datetime | None:
    return parse_datetime(item.get("lastModified") or item.get("last_modified"))


def _tags_by_kind(tags: list[str]) -> dict[str, list[str]]:
    """`["language:en", "format:csv"]` -> `{"language": ["en"], "format": ["csv"]}`."""
    kinds: dict[str, list[str]] = {}
    for tag in tags:
        kind, sep, value = tag.partition(":")
        if sep and value:
            kinds.setdefault(kind, []).append(value)
    return kinds


def _card_list(card: dict, key: str) -> list[str]:
    value = card.get(key)
    return clean_str_list(value) if value else []


def _dataset_info(card: dict) -> tuple[int | None, list[str], list[dict[str, Any]]]:
    """Row count (sum of split sizes), feature names and the splits as files, from the card's
    `dataset_info`, if present."""
    infos = card.get("dataset_info") if isinstance(card, dict) else None
    if not infos:
        return None, [], []
    infos = infos if isinstance(infos, list) else [infos] if isinstance(infos, dict) else []
    rows, columns, files = 0, {}, []
    for info in infos:
        if not isinstance(info, dict):
            continue
        config = clean_text(info.get("config_name"), 256)
        for split in info.get("splits") or []:
            if not isinstance(split, dict):
                continue
            examples = clean_int(split.get("num_examples"))
            rows += examples or 0
            name = clean_text(split.get("name"), 256)
            if name and len(files) < MAX_FILES:
                name = f"{config}/{name}" if config else name
                files.append(file_entry(name, size_bytes=clean_int(split.get("num_bytes")), rows=examples))
        for feature in info.get("features") or []:
            name = clean_text(feature.get("name"), 256) if isinstance(feature, dict) else None
            if name:
                columns.setdefault(name, None)
    return (rows or None), list(columns)[:500], files


def _configs(card: dict) -> list[str]:
    """The configuration names a card lists: `configs` (names, or {config_name: ...} entries),
    else the `dataset_info` entries' config names."""
    names = []
    for entry in card.get("configs") or []:
        name = entry.get("config_name") if isinstance(entry, dict) else entry
        names.append(clean_text(name, 256))
    if not names:
        infos = card.get("dataset_info")
        for info in infos if isinstance(infos, list) else [infos] if isinstance(infos, dict) else []:
            names.append(clean_text(info.get("config_name"), 256) if isinstance(info, dict) else None)
    return list(dict.fromkeys(n for n in names if n))


def load_snippet(external_id: str, configs: list[str]) -> str:
    """Python that loads the dataset with the `datasets` library: the first configuration named
    (a dataset with several will not load without one), the others listed for the reader."""
    quoted = [orjson.dumps(external_id).decode()] + ([orjson.dumps(configs[0]).decode()] if configs else [])
    lines = ["import datasets", "", f"ds = datasets.load_dataset({', '.join(quoted)})"]
    if len(configs) > 1:
        # Names are untrusted text: one line each, so none can end the comment and become code.
        others = ", ".join(" ".join(name.split()) for name in configs[1 : SHOWN_CONFIGS + 1])
        more = len(configs) - 1 - SHOWN_CONFIGS
        lines.append(f"# other configurations: {others}" + (f" (+{more} more)" if more > 0 else ""))
    return "\n".join(lines)


def _owner(item: dict, external_id: str) -> str | None:
    """The repo's owner: the Hub's `author`, else the owner part of owner/name."""
    author = item.get("author")
    return author if isinstance(author, str) else external_id.split("/", 1)[0] if "/" in external_id else None


def map_item(item: Any) -> MappedItem:
    """Raise MalformedItem when the item has no usable id or lastModified; clean everything else."""
    external_id = item_id(item)
    if external_id is None:
        raise MalformedItem("missing or invalid 'id'")
    last_modified = last_modified_of(item)
    if last_modified is None:
        raise MalformedItem(f"missing or unparseable 'lastModified' ({str(item.get('lastModified'))[:40]!r})")

    cleaned = False
    card = item.get("cardData")
    if card is not None and not isinstance(card, dict):
        card, cleaned = {}, True
    card = card or {}
    raw_tags = item.get("tags")
    tags = clean_str_list(raw_tags)
    cleaned |= raw_tags is not None and not isinstance(raw_tags, list)

    tag_kinds = _tags_by_kind(tags)
    license_values = _card_list(card, "license") or tag_kinds.get("license", [])
    size_categories = _card_list(card, "size_categories") or tag_kinds.get("size_categories", [])
    row_count, column_names, files = _dataset_info(card)

    description = item.get("description")
    title = clean_text(card.get("pretty_name"), 512) or external_id.split("/")[-1]
    downloads, likes, used_storage = item.get("downloads"), item.get("likes"), item.get("usedStorage")
    download_count, like_count, size_bytes = clean_int(downloads), clean_int(likes), clean_int(used_storage)
    cleaned |= (
        (downloads is not None and download_count is None)
        or (likes is not None and like_count is None)
        or (used_storage is not None and size_bytes is None)
    )
    clean_description = clean_text(description)
    cleaned |= description is not None and (
        not isinstance(description, str) or clean_description != (description.strip() or None)
    )
    created_raw = item.get("createdAt")
    created_at = parse_datetime(created_raw)
    cleaned |= created_raw is not None and created_at is None

    row = {
        "source": SOURCE,
        "external_id": external_id,
        "title": title,
        "url": f"https://huggingface.co/datasets/{external_id}",
        "description": clean_description,
        "tags": tags,
        "task_categories": _card_list(card, "task_categories") or tag_kinds.get("task_categories", []),
        "languages": _card_list(card, "language") or tag_kinds.get("language", []),
        "license": license_values[0] if license_values else None,
        "file_formats": tag_kinds.get("format", []),
        "size_category": size_categories[0] if size_categories else None,
        "size_bytes": size_bytes,
        "row_count": row_count,
        "column_names": column_names,
        "download_count": download_count,
        "like_count": like_count,
        "source_created_at": created_at,
        "source_updated_at": last_modified,
        "enrichment_status": EnrichmentStatus.ENRICHED,  # the listing already carries the full metadata
        "files": files,
        "creators": creators(_owner(item, external_id), kind=CreatorKind.ORGANIZATION),
        "citation": citation(item.get("citation")),
        "load_code": load_snippet(external_id, _configs(card)),
        "load_language": LoadLanguage.PYTHON,
    }
    row["source_meta"], row["sync_hash"] = raw_meta_and_hash(item)
    return MappedItem(external_id, last_modified, row, cleaned)
