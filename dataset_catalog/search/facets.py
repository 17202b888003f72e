"""Facet counts over a result set: how many of its datasets have each source, license,
license family, modality, task, language, size and format, each with the filter that selects it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dataset_catalog.catalog.search_queries import normalize_label
from dataset_catalog.common.languages import language_code, language_name
from dataset_catalog.common.licenses import normalize_license
from dataset_catalog.common.modalities import MODALITY_NAMES, modalities_of
from dataset_catalog.common.sizes import SIZE_NAMES, size_category_of
from dataset_catalog.common.sources import source_name
from dataset_catalog.search.records import label_words

MAX_BUCKETS = 15
FAMILY_NAMES = {
    "cc0": "CC0 (public domain)",
    "public-domain": "Public domain",
    "cc-by": "CC BY (any version)",
    "cc-by-sa": "CC BY-SA",
    "cc-by-nc": "CC BY-NC",
    "cc-by-nc-sa": "CC BY-NC-SA",
    "cc-by-nd": "CC BY-ND",
    "cc-by-nc-nd": "CC BY-NC-ND",
    "apache": "Apache",
    "mit": "MIT",
    "gpl": "GPL",
    "lgpl": "LGPL",
    "agpl": "AGPL",
    "bsd": "BSD",
    "odbl": "ODbL",
    "odc-by": "ODC-By",
    "other": "Other",
    "unknown": "Unknown",
}
FACETS = ("source", "license", "license_family", "modality", "task", "language", "size", "format")


@dataclass(frozen=True)
class FacetBucket:
    value: str  # what the facet's filter parameter takes
    label: str  # what a person reads
    count: int
    selected: bool = False

    def to_dict(self) -> dict:
        return {"value": self.value, "label": self.label, "count": self.count, "selected": self.selected}


def family_name(family: str) -> str:
    return FAMILY_NAMES.get(family) or family.upper()


def _buckets(counts: Counter, labels: dict[str, str], selected: str | None) -> list[FacetBucket]:
    top = counts.most_common(MAX_BUCKETS)
    buckets = [FacetBucket(v, labels.get(v, v), n, v == selected) for v, n in top]
    if selected and selected not in {b.value for b in buckets}:
        buckets.append(FacetBucket(selected, labels.get(selected, selected), counts.get(selected, 0), True))
    return buckets


_task_key = lru_cache(maxsize=4096)(normalize_label)


@lru_cache(maxsize=4096)
def _format_key(value: str) -> str:
    return value.strip().lower()


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def facet_counts(rows: Iterable[Mapping[str, Any]], selected: dict[str, str | None]) -> dict[str, list[FacetBucket]]:
    """Buckets per facet over catalog rows (most common first, at most MAX_BUCKETS); a selected
    value is always listed. Reads the raw columns through the cached normalisers: it runs over
    the whole result set of every search."""
    counts = {name: Counter() for name in FACETS}
    labels: dict[str, dict[str, str]] = {name: {} for name in FACETS}
    for row in rows:
        counts["source"][row["source"]] += 1
        lic = normalize_license(row.get("license"))
        license_key = lic.id or lic.family
        counts["license"][license_key] += 1
        labels["license"][license_key] = lic.name if lic.id else family_name(lic.family)
        counts["license_family"][lic.family] += 1
        tasks = {_task_key(t) for t in _strings(row.get("task_categories"))}
        for task in tasks:
            counts["task"][task] += 1
        formats = {_format_key(f) for f in _strings(row.get("file_formats"))}
        for modality in modalities_of(tasks, formats):
            counts["modality"][modality] += 1
        size = size_category_of(row.get("size_category"), row.get("row_count"))
        if size:
            counts["size"][size] += 1
        for code in {c for c in map(language_code, _strings(row.get("languages"))) if c}:
            counts["language"][code] += 1
        for file_format in formats:
            counts["format"][file_format] += 1
    labels["source"] = {v: source_name(v) for v in counts["source"]}
    labels["license_family"] = {v: family_name(v) for v in counts["license_family"]}
    labels["task"] = {v: label_words(v) for v in counts["task"]}
    labels["language"] = {v: language_name(v) for v in counts["language"]}
    labels["modality"] = MODALITY_NAMES
    labels["size"] = SIZE_NAMES
    buckets = {name: _buckets(counts[name], labels[name], selected.get(name)) for name in FACETS}
    sizes = list(SIZE_NAMES)
    buckets["size"].sort(key=lambda b: sizes.index(b.value) if b.value in sizes else len(sizes))  # small to large
    return buckets
