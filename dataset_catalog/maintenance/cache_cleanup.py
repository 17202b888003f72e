"""Delete cached downloads older than max_age, never inside a directory a live process marks in use.

See dataset_catalog.common.cache_lock for the marker contract. Only regular files are deleted;
symlinks are neither followed nor removed. Empty directories left behind are removed.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataset_catalog.common.cache_lock import is_marker, live_markers

logger = logging.getLogger(__name__)


@dataclass
class CleanupReport:
    files_removed: int = 0
    bytes_freed: int = 0
    dirs_removed: int = 0
    skipped_in_use: int = 0  # directories skipped because a live process marks them
    skipped_recent: int = 0  # files younger than max_age
    stale_markers_removed: int = 0
    errors: list[str] = field(default_factory=list)


def remove_old_cache_files(
    cache_dir: Path, max_age_hours: float, *, log: Any = logger, now: float | None = None
) -> CleanupReport:
    report = CleanupReport()
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        log.info(f"Cache dir {cache_dir} does not exist: nothing to clean")
        return report
    cutoff = (time.time() if now is None else now) - max_age_hours * 3600
    _clean_dir(cache_dir, cutoff, report, log, is_root=True)
    log.info(
        f"Removed {report.files_removed} files ({report.bytes_freed} bytes) from {cache_dir}; "
        f"{report.skipped_in_use} in-use dirs skipped, {report.skipped_recent} recent files kept"
    )
    return report


def _in_use(directory: Path, report: CleanupReport) -> bool:
    live, removed = live_markers(directory, remove_stale=True)
    report.stale_markers_removed += removed
    return bool(live)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")


def _clean_dir(directory: Path, cutoff: float, report: CleanupReport, log: Any, *, is_root: bool = False) -> None:
    """Depth-first; a marked directory is skipped with everything below it."""
    if _in_use(directory, report):
        report.skipped_in_use += 1
        log.info(f"Skipping {directory}: in use by a running process")
        return
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        report.errors.append(f"{directory}: {exc.strerror}")
        return
    removed_here = 0
    for entry in entries:
        path = Path(entry.path)
        if is_marker(path):
            continue
        if entry.is_dir(follow_symlinks=False):
            _clean_dir(path, cutoff, report, log)
            continue
        if not entry.is_file(follow_symlinks=False):
            continue  # symlinks, sockets, fifos: not ours to delete
        try:
            stat = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.st_mtime >= cutoff:
            report.skipped_recent += 1
            continue
        # A seed may have marked the directory since we entered it: look again right before deleting.
        if live_markers(directory)[0]:
            report.skipped_in_use += 1
            return
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror}")
            continue
        report.files_removed += 1
        report.bytes_freed += stat.st_size
        removed_here += 1
    # An empty directory goes only if we emptied it or it is old: a fresh one may be a seed's,
    # about to get its marker.
    if not is_root and (removed_here or _mtime(directory) < cutoff):
        try:
            directory.rmdir()  # only succeeds when empty
            report.dirs_removed += 1
        except OSError:
            pass
