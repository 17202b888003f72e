"""The one text embedded per dataset, and its content hash.

Layout (lines, empty parts left out):

    <title>
    <subtitle>
    Tasks: <task categories>
    Languages: <language names>
    Tags: <descriptive tags>
    <description, whitespace collapsed, first 2,000 characters>

The short, dense fields come first: all-MiniLM-L6-v2 reads only the first 256 tokens, so a long
description is what gets cut, never the title or tags. Hyphens and underscores in labels become
spaces ("text-classification" reads as words). Hub tags that only repeat structured facts
(license, size, format, region, library, arxiv/doi ids) are left out: they say nothing about
the topic and would make unrelated datasets look alike. Prefixed tags keep their value
("modality:text" -> "text"). Languages are written as names ("German", not "de"): the model
knows the word, not the code. A change to any of this changes the hash, so rows re-embed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from dataset_catalog.common.cleaning import clean_str_list, clean_text
from dataset_catalog.common.languages import language_name, normalize_languages

MAX_DESCRIPTION_CHARS = 2_000
MAX_LABELS = 30
NON_TOPICAL_TAG_PREFIXES = (
    "license:",
    "size_categories:",
    "format:",
    "region:",
    "library:",
    "arxiv:",
    "doi:",
    "benchmark:",
)


def _words(label: str) -> str:
    return " ".join(label.replace("-", " ").replace("_", " ").split())


def _text(value: Any, max_chars: int) -> str | None:
    # Fast path for what the database hands back (str or None); anything else is cleaned.
    if isinstance(value, str):
        return value.strip()[:max_chars] or None
    return clean_text(value, max_chars)


def _labels(values: Any, *, tags: bool = False) -> list[str]:
    out: dict[str, None] = {}
    items = values if isinstance(values, list) and all(isinstance(v, str) for v in values) else clean_str_list(values)
    for value in items:
        if tags:
            if value.lower().startswith(NON_TOPICAL_TAG_PREFIXES):
                continue
            value = value.split(":", 1)[1] if ":" in value else value
        words = _words(value)
        if words:
            out.setdefault(words.lower() if tags else words, None)
    return list(out)[:MAX_LABELS]


def build_embedding_text(row: Mapping[str, Any]) -> str:
    """The text embedded for a catalog row (title, subtitle, tasks, languages, tags, description)."""
    title = _text(row.get("title"), 512) or _text(row.get("external_id"), 512) or ""
    subtitle = _text(row.get("subtitle"), 1024)
    tasks = _labels(row.get("task_categories"))
    task_words = {t.lower() for t in tasks}
    tags = [t for t in _labels(row.get("tags"), tags=True) if t not in task_words]
    raw_languages = row.get("languages")
    languages = [
        language_name(c) for c in normalize_languages(raw_languages if isinstance(raw_languages, list) else None)
    ]
    description = _text(row.get("description"), 2 * MAX_DESCRIPTION_CHARS)
    if description:
        description = " ".join(description.split())[:MAX_DESCRIPTION_CHARS].strip()
    parts = [
        title,
        subtitle if subtitle and subtitle != title else None,
        f"Tasks: {', '.join(tasks)}" if tasks else None,
        f"Languages: {', '.join(languages[:MAX_LABELS])}" if languages else None,
        f"Tags: {', '.join(tags)}" if tags else None,
        description,
    ]
    return "\n".join(p for p in parts if p)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
