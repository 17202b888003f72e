"""What a dataset page gives a finder to get started, from the standard fields only: how to cite
it, its tags in words, what its license allows. The page, the JSON API and the MCP server read
these, so they say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dataset_catalog.common.licenses import what_it_allows
from dataset_catalog.search.records import DatasetRecord, label_words

# Tag kinds the page shows in their own rows (tasks, languages, license, size, formats): left
# out of the tag list. `region` is where the Hub stores the files, not about the data.
SHOWN_ELSEWHERE = frozenset({"task_categories", "language", "license", "size_categories", "format", "region"})
TAG_KIND_NAMES = {
    "task_ids": "Subtasks",
    "modality": "Modality",
    "multilinguality": "Multilinguality",
    "annotations_creators": "Annotations",
    "language_creators": "Language written by",
    "source_datasets": "Built from",
    "library": "Works with",
    "benchmark": "Benchmark",
    "arxiv": "arXiv paper",
    "doi": "DOI",
}
KEYWORDS = "Keywords"
MAX_TAGS_PER_KIND = 20
# Tag values that are identifiers, shown as they are (an arXiv id, a DOI), not as words.
VERBATIM_KINDS = frozenset({"arxiv", "doi", "source_datasets"})


@dataclass(frozen=True)
class Citation:
    text: str
    kind: str  # "bibtex" (ready for LaTeX), "reference" (a formatted reference) or "generated"

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "kind": self.kind}


def _bibtex_key(record: DatasetRecord) -> str:
    return f"{record.source}_" + "".join(c if c.isalnum() else "_" for c in record.external_id)


def _bibtex_value(text: str) -> str:
    """Text inside a BibTeX {...} value: braces balanced away, one line."""
    return " ".join(text.replace("{", "(").replace("}", ")").split())


def generated_bibtex(record: DatasetRecord, creators: list[dict[str, Any]], year: datetime | None, url: str) -> str:
    """A BibTeX @misc citing the dataset at its source page, as the Hub does for uncited datasets."""
    authors = " and ".join(c["name"] for c in creators) or record.source_name  # BibTeX's separator
    fields = [f"title={{{_bibtex_value(record.title)}}}", f"author={{{_bibtex_value(authors)}}}"]
    fields.append(f"howpublished={{\\url{{{record.url or url}}}}}")
    if isinstance(year, datetime):
        fields.append(f"year={{{year.year}}}")
    return f"@misc{{{_bibtex_key(record)},\n  " + ",\n  ".join(fields) + "\n}"


def citation_of(details: dict[str, Any], page_url: str) -> Citation:
    """How to cite the dataset: the source's own citation (a card's BibTeX, DataCite's
    reference), else a generated BibTeX @misc."""
    text = (details.get("citation") or "").strip()
    if text:
        return Citation(text, "bibtex" if text.startswith("@") else "reference")
    record: DatasetRecord = details["record"]
    year = record.updated_at or details.get("created_at")
    return Citation(generated_bibtex(record, details.get("creators") or [], year, page_url), "generated")


def tag_groups(tags: list[str]) -> list[dict[str, Any]]:
    """The tags a page lists, grouped by kind with names a person reads ("task_ids:sentiment-
    classification" -> Subtasks: Sentiment classification); tags without a kind are keywords."""
    groups: dict[str, list[str]] = {}
    for tag in tags:
        kind, sep, value = tag.partition(":")
        if not sep:
            kind, value = "", tag
        kind, value = kind.strip().lower(), value.strip()
        if not value or kind in SHOWN_ELSEWHERE:
            continue
        name = TAG_KIND_NAMES.get(kind, label_words(kind) if kind else KEYWORDS)
        shown = value if kind in VERBATIM_KINDS or not kind else label_words(value)
        values = groups.setdefault(name, [])
        if shown not in values and len(values) < MAX_TAGS_PER_KIND:
            values.append(shown)
    ordered = sorted(groups.items(), key=lambda item: (item[0] == KEYWORDS, item[0] not in TAG_KIND_NAMES.values()))
    return [{"kind": kind, "values": values} for kind, values in ordered]


def license_terms(record: DatasetRecord) -> str:
    return what_it_allows(record.license.family)
