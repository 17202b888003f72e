"""Seed the catalog from Meta Kaggle: fetch the six CSVs into the cache, join, upsert in batches.

The cache folder `<cache_dir>/meta-kaggle/` holds `Datasets.csv` ... `DatasetTags.csv`. While a
seed downloads or reads them the folder carries the project's in-use marker `.in-use.<pid>`
(`dataset_catalog.common.cache_lock`), which the cache cleanup honours; a killed seed's marker
is recognised as stale (dead pid or other start time) and removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dataset_catalog import settings
from dataset_catalog.catalog import CatalogStore, StagedRows, UpsertCounts
from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.catalog.staged_upserts import timestamp_text_format
from dataset_catalog.common.cache_lock import live_markers, mark_in_use, pid_alive
from dataset_catalog.common.prefetch import prefetched
from dataset_catalog.common.standard_fields import LoadLanguage
from dataset_catalog.kaggle.meta_kaggle import DB_COLUMNS, SKIP_REASONS, SOURCE, MetaKaggleJoin
from dataset_catalog.kaggle.meta_kaggle_csv import META_KAGGLE_FILES

logger = logging.getLogger(__name__)

META_KAGGLE_REF = "kaggle/meta-kaggle"
# DuckDB builds the next batch in this thread (holding the GIL) while SQLite or psycopg write the
# current one with the GIL released, so the two overlap.
BATCH_THREAD = "meta-kaggle-batches"
CACHE_SUBDIR = "meta-kaggle"
# Values of new rows only: seeded rows start pending; on re-seed the status is left as enrichment set it.
NEW_ROW_VALUES = {"enrichment_status": EnrichmentStatus.PENDING}
# Written into every seeded row (the ref's other standard fields come from the join's SQL).
SEED_ROW_VALUES = {"load_language": LoadLanguage.SHELL}
# The seed owns only source_meta.meta_kaggle; enrichment keeps its file list in the same column.
MERGE_JSON = {"source_meta": ("meta_kaggle",)}


class MetaKaggleDownloader(Protocol):
    """What the seed needs from the Kaggle client (a KaggleClient)."""

    def download_file(self, ref: str, file_name: str, dest_dir: Path, force: bool = False) -> Path: ...


def meta_kaggle_cache_dir(cache_dir: Path | None = None) -> Path:
    """`$DATASET_CATALOG_CACHE_DIR/meta-kaggle` (default `~/.dataset_catalog/cache/meta-kaggle`)."""
    return Path(cache_dir or settings.cache_dir()) / CACHE_SUBDIR


@contextmanager
def meta_kaggle_in_use(folder: Path) -> Iterator[Path]:
    """Mark `folder` in use for the duration, by the project's cache contract
    (`common.cache_lock`: a `.in-use.<pid>` marker that cache cleanup honours)."""
    with mark_in_use(folder):
        yield folder


def cache_in_use(folder: Path) -> bool:
    """True while a live process marks `folder` in use (what cache cleanup checks)."""
    return bool(live_markers(folder)[0])


def ensure_meta_kaggle_files(
    client: MetaKaggleDownloader,
    cache_dir: Path,
    force_redownload: bool = False,
    *,
    log: logging.Logger | Any = logger,
) -> dict[str, Path]:
    """The six CSVs in `cache_dir`, downloading those missing (or all, when forced).

    The client writes each download under a temporary name and renames it when complete, so a
    file present here is whole; a killed download leaves no `<Name>.csv` and is fetched again.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in META_KAGGLE_FILES:
        dest = cache_dir / f"{name}.csv"
        if force_redownload or not dest.is_file():
            log.info(f"Downloading {name}.csv of {META_KAGGLE_REF} into {cache_dir}")
            started = time.perf_counter()
            got = Path(client.download_file(META_KAGGLE_REF, dest.name, cache_dir, force=True))
            if got.resolve() != dest.resolve():
                os.replace(got, dest)  # e.g. an extracted name differing in case; same folder, atomic
            size_mb = dest.stat().st_size / 1e6
            log.info(f"Downloaded {name}.csv: {size_mb:.1f} MB in {time.perf_counter() - started:.1f}s")
        paths[name] = dest
    return paths


@dataclass
class SeedReport:
    total_processed: int = 0  # Datasets.csv rows read
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    skipped: dict[str, int] = field(default_factory=dict)
    csv_rejected: dict[str, dict[str, int]] = field(default_factory=dict)  # lines DuckDB could not parse
    csv_rejected_samples: list[str] = field(default_factory=list)  # the first few of them, per file
    repaired_utf8: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    batches: int = 0
    join_seconds: float = 0.0
    write_seconds: float = 0.0

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def metadata(self) -> dict[str, Any]:
        """Flat values for MaterializeResult metadata."""
        values: dict[str, Any] = {
            "total_processed": self.total_processed,
            "total_inserted": self.counts.inserted,
            "total_updated": self.counts.updated,
            "total_unchanged": self.counts.unchanged,
            "total_skipped": self.total_skipped,
        }
        values.update({f"skipped_{reason}": self.skipped.get(reason, 0) for reason in SKIP_REASONS})
        values["csv_rejected_lines"] = sum(sum(v.values()) for v in self.csv_rejected.values())
        values["csv_rejected_samples"] = "\n".join(self.csv_rejected_samples) or "none"
        values["warnings"] = "\n".join(self.warnings) or "none"
        values["utf8_repaired_files"] = ", ".join(self.repaired_utf8) or "none"
        values["join_seconds"] = round(self.join_seconds, 2)
        values["write_seconds"] = round(self.write_seconds, 2)
        return values


def seed_catalog(
    store: CatalogStore,
    paths: Mapping[str, Path],
    *,
    batch_size: int = 20_000,
    log: logging.Logger | Any = logger,
    temp_parent: Path | None = None,
    memory_limit: str = "1GB",
) -> SeedReport:
    """Join Meta Kaggle and upsert every resolvable dataset, one transaction per batch.

    Rows reach `CatalogStore.upsert_datasets` as StagedRows (SQLite: tuples; PostgreSQL: CSV for
    COPY), one merge statement per batch, at a fraction of the per-row cost of dict rows. Each batch
    commits on its own and upserts are keyed on (source, ref), so a seed killed at any point and
    run again ends with exactly the same rows. Enrichment state is never written:
    `enrichment_status='pending'` is set on insert only.
    """
    report = SeedReport()
    with MetaKaggleJoin.build(paths, temp_parent=temp_parent, memory_limit=memory_limit) as joined:
        jr = joined.report
        report.total_processed = jr.lines_read
        report.skipped = {r: jr.skipped.get(r, 0) for r in SKIP_REASONS}
        report.csv_rejected, report.repaired_utf8 = jr.csv.rejected, jr.csv.repaired_utf8
        report.csv_rejected_samples = jr.csv.rejected_samples
        report.join_seconds = jr.seconds
        for sample in jr.csv.rejected_samples:
            log.warning(f"Skipped a line that is not a CSV row: {sample}")
        if jr.lines_read == 0:
            report.warnings.append("Datasets.csv has no data rows (a header only?): nothing was seeded.")
            log.warning(report.warnings[-1])
        log.info(
            f"Joined Meta Kaggle in {jr.seconds:.1f}s: {jr.lines_read} datasets read, {jr.resolved} resolved, "
            f"skipped {jr.total_skipped} ({', '.join(f'{k}={v}' for k, v in jr.skipped.items()) or 'none'}); "
            f"seconds per step: {jr.stage_seconds}"
        )
        started = time.perf_counter()
        for counts in _write_batches(store, joined, batch_size):
            report.counts += counts
            report.batches += 1
            done = report.counts.inserted + report.counts.updated + report.counts.unchanged
            elapsed = time.perf_counter() - started
            log.info(
                f"Batch {report.batches}: {done}/{jr.resolved} rows ({report.counts.inserted} new, "
                f"{report.counts.updated} updated, {report.counts.unchanged} unchanged), "
                f"{done / max(elapsed, 1e-9):.0f} rows/s"
            )
        report.write_seconds = time.perf_counter() - started
    return report


def _write_batches(store: CatalogStore, joined: MetaKaggleJoin, batch_size: int) -> Iterator[UpsertCounts]:
    """Upsert batch after batch; PostgreSQL gets CSV for COPY (no Python object per row)."""
    timestamps = timestamp_text_format(store.dialect)
    if store.dialect == "postgresql":
        for data in prefetched(joined.csv_batches(timestamps, batch_size), name=BATCH_THREAD):
            staged = StagedRows(
                [*DB_COLUMNS, "source"],
                csv=data,
                constants={**SEED_ROW_VALUES, **NEW_ROW_VALUES},
                merge_json=MERGE_JSON,
            )
            yield store.upsert_datasets(staged, insert_only=NEW_ROW_VALUES.keys())
    else:
        for rows in prefetched(joined.db_batches(timestamps, batch_size), name=BATCH_THREAD):
            constants = {"source": SOURCE, **SEED_ROW_VALUES, **NEW_ROW_VALUES}
            staged = StagedRows(DB_COLUMNS, rows, constants=constants, merge_json=MERGE_JSON)
            yield store.upsert_datasets(staged, insert_only=NEW_ROW_VALUES.keys())


class _LazyDownloader:
    """Builds the Kaggle client on the first download: a fully cached seed needs no credentials."""

    def __init__(self, factory: Callable[[], MetaKaggleDownloader]):
        self._factory = factory
        self._client: MetaKaggleDownloader | None = None

    def download_file(self, ref: str, file_name: str, dest_dir: Path, force: bool = False) -> Path:
        if self._client is None:
            self._client = self._factory()
        return self._client.download_file(ref, file_name, dest_dir, force=force)


def remove_stale_work_dirs(folder: Path) -> list[Path]:
    """Delete `.join-<pid>-*` scratch folders (and markers) left by seeds that were killed."""
    removed = []
    for work in folder.glob(".join-*"):
        try:
            pid = int(work.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    live_markers(folder, remove_stale=True)
    return removed


def seed_from_cache(
    client_factory: Callable[[], MetaKaggleDownloader],
    store: CatalogStore,
    *,
    cache_dir: Path | None = None,
    force_redownload: bool = False,
    batch_size: int = 20_000,
    log: logging.Logger | Any = logger,
) -> SeedReport:
    """Download what is missing and seed, holding the cache's in-use lock throughout."""
    folder = meta_kaggle_cache_dir(cache_dir)
    with meta_kaggle_in_use(folder):
        for stale in remove_stale_work_dirs(folder):
            log.info(f"Removed scratch folder of a killed seed: {stale}")
        paths = ensure_meta_kaggle_files(_LazyDownloader(client_factory), folder, force_redownload, log=log)
        return seed_catalog(store, paths, batch_size=batch_size, log=log, temp_parent=folder)
