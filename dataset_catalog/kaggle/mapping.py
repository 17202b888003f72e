"""Map kagglesdk objects (DatasetInfo + files, ApiDataset) to catalog columns."""

from __future__ import annotations

import shlex
from typing import Any

from kagglesdk.datasets.types.dataset_api_service import ApiDataset, ApiDatasetFile
from kagglesdk.datasets.types.dataset_types import DatasetInfo

from dataset_catalog.common.cleaning import clean_float, clean_int, clean_str_list, clean_text, parse_datetime
from dataset_catalog.common.standard_fields import MAX_FILES, LoadLanguage, creators, file_entry

SOURCE = "kaggle"
DATASET_URL = "https://www.kaggle.com/datasets/{ref}"
# What enrichment_values may fill (the queue refuses anything else).
ENRICHED_COLUMNS = frozenset(
    {
        "title",
        "subtitle",
        "description",
        "tags",
        "license",
        "usability_rating",
        "file_formats",
        "column_names",
        "size_bytes",
        "download_count",
        "view_count",
        "like_count",
        "files",
        "creators",
        "load_code",
        "load_language",
    }
)
MAX_COLUMNS = 500


def _format_of(file: ApiDatasetFile) -> str | None:
    kind = (file.file_type or "").strip().lstrip(".").lower()
    if not kind and "." in (file.name or ""):
        kind = file.name.rsplit(".", 1)[-1].lower()
    return clean_text(kind, 32)


def ref_fields(ref: str) -> dict[str, Any]:
    """The standard fields a dataset's `owner/slug` gives: the owner as its creator (a user or
    an organization; Kaggle's answers do not say which) and the CLI line that downloads it."""
    return {
        "creators": creators(ref.split("/", 1)[0]),
        "load_code": f"kaggle datasets download -d {shlex.quote(ref)}",
        "load_language": LoadLanguage.SHELL,
    }


# ref_fields' creators and load_code as DuckDB SQL over a `ref` column, for the Meta Kaggle seed's
# bulk path (kaggle/meta_kaggle.py): the ref quoted where shlex.quote would quote it.
REF_FIELDS_SQL = """to_json([{'name': split_part(ref, '/', 1), 'kind': 'person'}])::VARCHAR,
                       'kaggle datasets download -d ' || CASE WHEN regexp_full_match(ref, '[A-Za-z0-9_@%+=:,./-]+')
                           THEN ref ELSE '''' || replace(ref, '''', '''"''"''') || '''' END"""


def _http_url(value: Any) -> str | None:
    url = clean_text(value, 2_000)
    return url if url and url.startswith(("https://", "http://")) else None


def enrichment_values(ref: str, info: DatasetInfo, files: list[ApiDatasetFile]) -> dict[str, Any]:
    """Columns GetDatasetMetadata + ListDatasetFiles fill. Empty values are left out, so an
    answer lacking a field never wipes what the seed already wrote."""
    licenses = [clean_text(lic.name, 256) for lic in (info.licenses or []) if lic is not None]
    columns: dict[str, None] = {}
    for file in files:
        for column in sorted(file.columns or [], key=lambda c: c.order if c.order is not None else 0):
            name = clean_text(column.name, 256)
            if name and len(columns) < MAX_COLUMNS:
                columns.setdefault(name, None)
    values: dict[str, Any] = {
        "title": clean_text(info.title, 512),
        "subtitle": clean_text(info.subtitle, 1024),
        "description": clean_text(info.description),
        "tags": clean_str_list(info.keywords) or None,
        "license": next((lic for lic in licenses if lic), None),
        "usability_rating": clean_float(info.usability_rating),
        "download_count": clean_int(info.total_downloads) or None,
        "view_count": clean_int(info.total_views) or None,
        "like_count": clean_int(info.total_votes) or None,
    }
    values = {k: v for k, v in values.items() if v is not None}
    # The file list is authoritative even when empty: a dataset without files has none.
    values["file_formats"] = clean_str_list([_format_of(f) for f in files])
    values["column_names"] = list(columns)
    values["size_bytes"] = sum(clean_int(f.total_bytes) or 0 for f in files) if files else None
    values["files"] = [
        file_entry(name, url=_http_url(f.url), size_bytes=clean_int(f.total_bytes), file_format=_format_of(f))
        for f in files[:MAX_FILES]
        if (name := clean_text(f.name, 512))
    ]
    return {**values, **ref_fields(ref)}


def files_meta(files: list[ApiDatasetFile]) -> dict[str, Any]:
    """What the enrichment keeps in `source_meta`: how many files there are (`files` lists the
    first MAX_FILES)."""
    return {"kaggle_file_count": len(files)}


def latest_row(dataset: ApiDataset) -> dict[str, Any] | None:
    """A catalog row from a ListDatasets item; None when it has no usable `owner/slug` ref.

    Only fields the listing really carries are included: the upsert writes the columns a row
    has, so description, files and columns filled by the enrichment survive.
    """
    ref = clean_text(dataset.ref, 512)
    if not ref or ref.count("/") != 1 or any(c.isspace() for c in ref) or ref != dataset.ref:
        return None
    tags = clean_str_list([t.name or t.ref for t in (dataset.tags or []) if t is not None])
    row: dict[str, Any] = {
        "source": SOURCE,
        "external_id": ref,
        "url": DATASET_URL.format(ref=ref),
        "title": clean_text(dataset.title, 512) or ref.split("/")[1],
        "subtitle": clean_text(dataset.subtitle, 1024),
        "description": clean_text(dataset.description),
        "tags": tags or None,
        "license": clean_text(dataset.license_name, 256),
        "size_bytes": clean_int(dataset.total_bytes),
        "download_count": clean_int(dataset.download_count),
        "view_count": clean_int(dataset.view_count),
        "like_count": clean_int(dataset.vote_count),
        "usability_rating": clean_float(dataset.usability_rating),
        "source_updated_at": parse_datetime(dataset.last_updated),
        "is_active": True,
        **ref_fields(ref),
    }
    return {k: v for k, v in row.items() if v is not None}
