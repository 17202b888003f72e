"""What a finder sees of one dataset, in a result list or on its own page: the catalog row's
fields with licenses, languages and tasks in their normalised form, sizes readable, and why a
hit matched. The web pages, the JSON API and the CLI all render these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataset_catalog.catalog.search_queries import normalize_label
from dataset_catalog.common.languages import language_name, normalize_languages
from dataset_catalog.common.licenses import License, normalize_license
from dataset_catalog.common.sources import source_name
from dataset_catalog.search.snippets import Snippet, make_snippet, match_spans


def label_words(value: str) -> str:
    """ "text-classification" -> "Text classification"."""
    words = " ".join(value.replace("-", " ").replace("_", " ").split())
    return words[:1].upper() + words[1:]


def human_bytes(size: int | None) -> str | None:
    if size is None or size < 0:
        return None
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    return None


def human_count(count: int | None) -> str | None:
    if count is None:
        return None
    for threshold, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(count) >= threshold:
            value = count / threshold
            return f"{value:.1f}".rstrip("0").rstrip(".") + suffix
    return str(count)


def aware(value: Any) -> datetime | None:
    """SQLite hands timestamps back without their zone; the catalog writes them in UTC."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


@dataclass
class DatasetRecord:
    source: str
    external_id: str
    title: str
    url: str | None
    license: License
    tasks: list[str]  # normalised labels, e.g. text-classification
    languages: list[str]  # ISO codes
    formats: list[str]
    size_bytes: int | None
    size_category: str | None
    row_count: int | None
    downloads: int | None
    likes: int | None
    updated_at: datetime | None
    snippet: Snippet | None = None
    why: list[str] = field(default_factory=list)
    score: float | None = None
    semantic_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None
    also_on: list[dict[str, Any]] = field(default_factory=list)  # other homes of the same data (search/folding.py)

    @property
    def source_name(self) -> str:
        return source_name(self.source)

    @property
    def page_path(self) -> str:
        from urllib.parse import quote

        return f"/datasets/{quote(self.source, safe='')}/{quote(self.external_id, safe='/')}"

    @property
    def language_names(self) -> list[str]:
        return [language_name(c) for c in self.languages]

    @property
    def task_names(self) -> list[str]:
        return [label_words(t) for t in self.tasks]

    @property
    def size_text(self) -> str | None:
        parts = [
            human_bytes(self.size_bytes),
            f"{human_count(self.row_count)} rows" if self.row_count is not None else None,
        ]
        text = ", ".join(p for p in parts if p)
        return text or (self.size_category or None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_name": self.source_name,
            "external_id": self.external_id,
            "title": self.title,
            "url": self.url,
            "page": self.page_path,
            "license": self.license.to_dict(),
            "tasks": self.tasks,
            "languages": [{"code": c, "name": language_name(c)} for c in self.languages],
            "formats": self.formats,
            "size_bytes": self.size_bytes,
            "size_category": self.size_category,
            "row_count": self.row_count,
            "downloads": self.downloads,
            "likes": self.likes,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "snippet": self.snippet.to_dict() if self.snippet else None,
            "why": self.why,
            "score": self.score,
            "semantic_rank": self.semantic_rank,
            "keyword_rank": self.keyword_rank,
            "similarity": self.similarity,
            "also_on": [{k: h[k] for k in ("source", "external_id", "url", "title")} for h in self.also_on],
        }


def record_from_row(row: Mapping[str, Any], tokens: list[str] | None = None) -> DatasetRecord:
    """The record of a catalog row (any subset of its columns); with `tokens`, a snippet too."""
    record = DatasetRecord(
        source=row["source"],
        external_id=row["external_id"],
        title=row.get("title") or row["external_id"],
        url=row.get("url"),
        license=normalize_license(row.get("license")),
        tasks=list(dict.fromkeys(normalize_label(t) for t in _list(row.get("task_categories")))),
        languages=normalize_languages(_list(row.get("languages"))),
        formats=list(dict.fromkeys(f.strip().lower() for f in _list(row.get("file_formats")))),
        size_bytes=row.get("size_bytes"),
        size_category=row.get("size_category"),
        row_count=row.get("row_count"),
        downloads=row.get("download_count"),
        likes=row.get("like_count"),
        updated_at=aware(row.get("source_updated_at")),
    )
    if tokens is not None:
        record.snippet = make_snippet(row.get("description") or row.get("subtitle"), tokens)
    return record


def _quoted(words: list[str]) -> str:
    return "“" + " ".join(words) + "”"


def why_matched(record: DatasetRecord, row: Mapping[str, Any], tokens: list[str]) -> list[str]:
    """Why a hit is in the list, in plain words: which of the query's words it matches where,
    whether it is close in meaning, and how much it is used."""
    reasons = []
    if record.keyword_rank is not None:
        fields = {
            "the title": row.get("title") or record.external_id,
            "the subtitle": row.get("subtitle"),
            "its tasks": " ".join(record.task_names),
            "its tags": " ".join(_list(row.get("tags"))),
            "the description": (row.get("description") or "")[:20_000],
        }
        seen: set[str] = set()
        for name, text in fields.items():
            words = [t for t in tokens if t not in seen and match_spans(text or "", [t])]
            if words:
                reasons.append(f"matches {_quoted(words)} in {name}")
                seen.update(words)
            if len(reasons) == 2:
                break
        if not reasons:
            reasons.append("matches words of your search")
    if record.semantic_rank is not None:
        reasons.append("close in meaning to your search")
    if (record.downloads or 0) >= 10_000 or (record.likes or 0) >= 100:
        used = [f"{human_count(record.downloads)} downloads" if record.downloads else None]
        used.append(f"{human_count(record.likes)} likes" if record.likes and not record.downloads else None)
        reasons.append("widely used (" + ", ".join(u for u in used if u) + ")")
    return reasons
