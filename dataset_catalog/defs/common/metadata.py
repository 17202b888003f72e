"""Metadata shared by assets and checks: markdown tables, previews of written rows, the catalog's
state, and the one shape of a source asset's materialization (`load_result`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from dataset_catalog.catalog.loader import PREVIEW_COLUMNS, DayCounts, LoadReport
from dataset_catalog.catalog.summary import CatalogSummary
from dataset_catalog.defs.common.daily_partitions import DailyRun, partition_counts


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
    return records_table(rows, PREVIEW_COLUMNS, empty="_no rows written_")


def _counts(counts: DayCounts) -> dict[str, int]:
    return {
        "total_fetched": counts.loaded,
        "total_inserted": counts.inserted,
        "total_updated": counts.updated,
        "total_unchanged": counts.unchanged,
        **{f"skipped_{reason}": n for reason, n in counts.skipped.items()},
    }


def load_result(
    context: dg.AssetExecutionContext,
    load: LoadReport,
    *,
    row_count: int,
    run: Mapping[str, Any],
    partitions: DailyRun | None = None,
) -> dg.MaterializeResult:
    """A source asset's materialization: its LoadReport's counts, the source's own figures
    (`run`: requests made, samples, why it stopped), a preview and the source's row count.

    A partitioned run (`partitions`) records each partition's own
    counts on that partition, and what belongs to the run as a whole (its totals as `run_*`,
    `run`, the window, the preview) once, on the newest partition of the run: so the per-day view
    and its plots show each day's own numbers."""
    tail = {"preview": preview_table(load.preview), "dagster/row_count": row_count}
    if partitions is None:
        return dg.MaterializeResult(metadata={**_counts(load.totals()), **run, **tail})
    for key, counts in partition_counts(load, partitions).items():
        context.add_asset_metadata(_counts(counts), partition_key=key)
    window = partitions.window
    context.add_asset_metadata(
        {
            "run_partitions": len(partitions.keys),
            **{f"run_{name}": n for name, n in _counts(load.totals()).items()},
            **run,
            "window_start": window.start.isoformat() if window.start else "(open: everything older)",
            "window_end": window.end.isoformat(),
            **tail,
        },
        partition_key=partitions.keys[-1],
    )
    return dg.MaterializeResult()


def catalog_state_table(summary: CatalogSummary) -> dg.MetadataValue:
    """Rows per source, enrichment status and active flag, with how many are embedded:
    "how complete is the catalog?" without SQL."""
    rows = [
        [s["source"], s["enrichment_status"], "active" if s["is_active"] else "inactive", s["rows"], s["embedded"]]
        for s in summary.by_state()
    ]
    return dg.MetadataValue.md(markdown_table(("source", "enrichment", "state", "rows", "embedded"), rows))
