"""Markdown metadata shared by assets: previews of written rows and the catalog's state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from dataset_catalog.catalog import CatalogStore


def _cell(value: Any, width: int = 60) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def preview_table(rows: Sequence[dict[str, Any]]) -> dg.MetadataValue:
    columns = ("external_id", "title", "license", "download_count", "source_updated_at")
    if not rows:
        return dg.MetadataValue.md("_no rows written_")
    return dg.MetadataValue.md(markdown_table(columns, [[r.get(c) for c in columns] for r in rows]))


# (source, enrichment_status, is_active) -> rows with an embedding. Set by the embeddings package.
def catalog_state_table(store: CatalogStore) -> dg.MetadataValue:
    """Rows per source, enrichment status and active flag, with how many are embedded:
    "how complete is the catalog?" without SQL."""
    rows = [
        [s["source"], s["enrichment_status"], "active" if s["is_active"] else "inactive", s["rows"], s["embedded"]]
        for s in store.status_summary()
    ]
    return dg.MetadataValue.md(markdown_table(("source", "enrichment", "state", "rows", "embedded"), rows))
