"""Markdown metadata shared by assets: previews of written rows and the catalog's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
EmbeddedCounts = Callable[[CatalogStore], Mapping[tuple[str, str, bool], int]]
_embedded_counts_hook: EmbeddedCounts | None = None


def set_embedded_counts_hook(hook: EmbeddedCounts | None) -> None:
    """Let catalog_state_table show an "embedded" column (None removes it)."""
    global _embedded_counts_hook
    _embedded_counts_hook = hook


def catalog_state_table(store: CatalogStore, embedded_counts: EmbeddedCounts | None = None) -> dg.MetadataValue:
    """Rows per source, enrichment status and active flag: "how complete is the catalog?".

    With an embedded-counts hook (argument, else the one registered), an "embedded" column too.
    """
    summary = store.status_summary()
    rows = [[s["source"], s["enrichment_status"], "active" if s["is_active"] else "inactive", s["rows"]] for s in summary]
    headers: tuple[str, ...] = ("source", "enrichment", "state", "rows")
    hook = embedded_counts or _embedded_counts_hook
    if hook is not None:
        embedded = hook(store)
        headers += ("embedded",)
        for row, s in zip(rows, summary, strict=True):
            row.append(embedded.get((s["source"], s["enrichment_status"], bool(s["is_active"])), 0))
    return dg.MetadataValue.md(markdown_table(headers, rows))
