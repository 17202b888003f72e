"""The standard fields every source's mapping writes, in one shape, so the read side (search/,
service/) shows a dataset's files, creators, citation and how to load it without knowing which
source it came from. They are columns of `datasets` (catalog/schema.py), NULL where a source
has nothing to say:

- `files`: [{"name", "url", "bytes", "rows", "format"}] (None where unknown), at most MAX_FILES
- `creators`: [{"name", "kind"}], kind a CreatorKind
- `citation`: how the source asks the dataset to be cited (BibTeX or a formatted reference)
- `load_code`, `load_language`: a short snippet that gets the data, and its LoadLanguage
- `url` (an older column): the dataset's own page at its source
"""

from __future__ import annotations

from typing import Any

from dataset_catalog.common.cleaning import clean_text

MAX_FILES = 200
FILE_KEYS = ("name", "url", "bytes", "rows", "format")
CREATOR_KEYS = ("name", "kind")
MAX_CREATORS = 100
MAX_CITATION_CHARS = 5_000


class CreatorKind:
    PERSON = "person"
    ORGANIZATION = "organization"


class LoadLanguage:
    PYTHON = "python"
    SHELL = "shell"
    URL = "url"  # no client to show: the address that resolves to the data's landing page


def file_entry(
    name: str,
    *,
    url: str | None = None,
    size_bytes: int | None = None,
    rows: int | None = None,
    file_format: str | None = None,
) -> dict[str, Any]:
    """One entry of `files` (every key of FILE_KEYS, None where the source did not say)."""
    return {"name": name, "url": url, "bytes": size_bytes, "rows": rows, "format": file_format}


def creator(name: Any, kind: str = CreatorKind.PERSON) -> dict[str, str] | None:
    """One entry of `creators`, or None for a name that is no text."""
    text = clean_text(name, 512)
    return {"name": text, "kind": kind} if text else None


def creators(*names: Any, kind: str = CreatorKind.PERSON) -> list[dict[str, str]]:
    """`creators` of these names, all of one kind (names that are no text left out)."""
    if len(names) == 1:  # the usual case (an owner, an uploader), once per synced row
        entry = creator(names[0], kind)
        return [entry] if entry else []
    return [entry for name in names[:MAX_CREATORS] if (entry := creator(name, kind))]


def citation(value: Any) -> str | None:
    return clean_text(value, MAX_CITATION_CHARS)
