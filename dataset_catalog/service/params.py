"""Query parameters of search (API and page), validated by pydantic: unknown names, values
out of range and filters with control characters are refused with 422 before any search runs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dataset_catalog.catalog.search_queries import SearchFilters
from dataset_catalog.common.cleaning import has_control_characters
from dataset_catalog.common.sizes import SIZE_NAMES
from dataset_catalog.search.finder import MAX_OFFSET, SearchRequest
from dataset_catalog.search.ranking import MAX_LIMIT, MAX_QUERY_CHARS

_LABEL = {"max_length": 256}


class SearchParams(BaseModel):
    """`GET /api/search` and `GET /`: the query, filters, sort and page."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field("", max_length=4 * MAX_QUERY_CHARS, description="What you are looking for, in words.")
    source: str | None = Field(None, pattern=r"^[a-z0-9_]{1,32}$", description="huggingface, kaggle, ...")
    license: str | None = Field(
        None, description="SPDX id (CC0-1.0, CC-BY-4.0, MIT) or a source's own label.", **_LABEL
    )
    license_family: str | None = Field(
        None, description="Every version of a license: cc-by, cc-by-sa, apache, gpl, ...", **_LABEL
    )
    task: str | None = Field(None, description="Task category, e.g. text-classification.", **_LABEL)
    language: str | None = Field(None, description="ISO code or name: de, deu, German.", max_length=64)
    format: str | None = Field(None, description="File format, e.g. parquet, csv.", max_length=64)
    modality: Literal["text", "image", "audio", "tabular", "video"] | None = Field(
        None, description="What the data is: text, image, audio, tabular or video."
    )
    size: Literal[tuple(SIZE_NAMES)] | None = Field(  # type: ignore[valid-type]
        None, description="A size category by rows (the Hub's): n<1K, 1K<n<10K, ... 100B<n<1T, n>1T."
    )
    min_downloads: int | None = Field(None, ge=0, le=2**63 - 1)
    sort: Literal["relevance", "downloads", "likes", "updated"] = "relevance"
    offset: int = Field(
        0, ge=0, lt=MAX_OFFSET, description=f"Results to skip (the result set holds at most {MAX_OFFSET})."
    )
    limit: int = Field(10, ge=1, le=MAX_LIMIT)
    understand: bool = Field(True, description="Read languages, tasks, sizes, licences and sources from q.")
    fold: bool = Field(True, description="One hit per dataset however many sites host it; false shows every copy.")
    ignore: str | None = Field(
        None, max_length=512, description="Understood constraints to turn off, comma-separated: language:de,task"
    )

    @field_validator("source", "license", "license_family", "task", "language", "format", "ignore", mode="before")
    @classmethod
    def no_control_characters(cls, value):
        # Checked before anything else sees the value: langcodes' C code reads past a NUL, and
        # PostgreSQL refuses NUL in text. (The query `q` is cleaned by search instead.)
        if isinstance(value, str) and has_control_characters(value):
            raise ValueError("contains a control character (NUL, newline, ESC, ...): give plain text")
        return value

    def filters(self) -> SearchFilters:
        blank = lambda v: v.strip() or None if isinstance(v, str) else v  # noqa: E731 - a form's empty field means "any"
        return SearchFilters(
            source=blank(self.source),
            license=blank(self.license),
            task=blank(self.task),
            file_format=blank(self.format),
            min_downloads=self.min_downloads,
            license_family=blank(self.license_family),
            language=blank(self.language),
            size_categories=(self.size,) if self.size else None,
            modality=self.modality,
        )

    def ignored(self) -> tuple[str, ...]:
        return tuple(i.strip() for i in (self.ignore or "").split(",") if i.strip())

    def request(self) -> SearchRequest:
        return SearchRequest(
            self.q,
            self.filters(),
            self.sort,
            self.offset,
            self.limit,
            understand=self.understand,
            ignore=self.ignored(),
            fold=self.fold,
        )

    def ignoring(self, key: str) -> str:
        """This search's query string with the understood constraint `key` turned off too (a chip's ✕)."""
        return self.query_string(ignore=",".join((*self.ignored(), key)), offset=None)

    def query_string(self, **changes) -> str:
        """This search as URL query parameters, with `changes` (None removes a parameter)."""
        from urllib.parse import urlencode

        values = {**self.model_dump(), **changes}
        defaults = {"sort": "relevance", "offset": 0, "limit": 10, "understand": True, "fold": True}
        kept = {k: v for k, v in values.items() if v not in (None, "") and defaults.get(k) != v}
        return urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in kept.items()})
