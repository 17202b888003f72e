"""Metadata values shared by assets and checks: markdown tables, previews of written rows, the catalog's state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from dataset_catalog.catalog.summary import CatalogSummary


def _cell(value: Any, width: int = 60) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def records_table(
    records: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, empty: str = "_none_"
) -> dg.MetadataValue:
    """Markdown metadata of dict records (`columns`, default: the first record's keys), or `empty`."""
    if not records:
        return dg.MetadataValue.md(empty)
    columns = list(columns or records[0])
    return dg.MetadataValue.md(markdown_table(columns, [[r.get(c) for c in columns] for r in records]))


def preview_table(rows: Sequence[dict[str, Any]]) -> dg.MetadataValue:
    columns = ("external_id", "title", "license", "download_count", "source_updated_at")
    return records_table(rows, columns, empty="_no rows written_")


def catalog_state_table(summary: CatalogSummary) -> dg.MetadataValue:
    """Rows per source, enrichment status and active flag, with how many are embedded:
    "how complete is the catalog?" without SQL."""
    rows = [
        [s["source"], s["enrichment_status"], "active" if s["is_active"] else "inactive", s["rows"], s["embedded"]]
        for s in summary.by_state()
    ]
    return dg.MetadataValue.md(markdown_table(("source", "enrichment", "state", "rows", "embedded"), rows))
