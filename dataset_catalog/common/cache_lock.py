"""In-use markers for the downloads cache: the contract between seeds and cache cleanup.

A process using files under a cache directory wraps the work in `mark_in_use(directory)`,
which creates `<directory>/.in-use.<pid>` (content: the process start time, so a recycled pid
is not mistaken for the owner). Cache cleanup skips every directory that holds, or lies below a
directory that holds, a marker of a live process, and removes markers of dead processes.
Markers are local to one machine: the cache dir must not be shared between hosts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER_PREFIX = ".in-use."


def _start_token(pid: int) -> str:
    """The process start time (Linux /proc), '' where unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22 (starttime) counted after the ')' closing the command name, which may hold spaces.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def marker_path(directory: Path, pid: int | None = None) -> Path:
    return Path(directory) / f"{MARKER_PREFIX}{os.getpid() if pid is None else pid}"


def is_marker(path: Path) -> bool:
    return path.name.startswith(MARKER_PREFIX) and path.name[len(MARKER_PREFIX) :].isdigit()


def marker_is_live(marker: Path) -> bool:
    """A marker counts while its pid runs and (where known) has the recorded start time."""
    pid = int(marker.name[len(MARKER_PREFIX) :])
    if not pid_alive(pid):
        return False
    try:
        recorded = marker.read_text().strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # unreadable: err on the side of keeping the files
    current = _start_token(pid)
    return not (recorded and current and recorded != current)


def live_markers(directory: Path, *, remove_stale: bool = False) -> tuple[list[Path], int]:
    """(live markers in `directory`, stale markers removed)."""
    live, removed = [], 0
    try:
        entries = list(Path(directory).iterdir())
    except OSError:
        return [], 0
    for entry in entries:
        if not is_marker(entry):
            continue
        if marker_is_live(entry):
            live.append(entry)
        elif remove_stale:
            try:
                entry.unlink()
                removed += 1
            except FileNotFoundError:
                pass
    return live, removed


@contextmanager
def mark_in_use(directory: str | os.PathLike) -> Iterator[Path]:
    """Mark `directory` (created if missing) as in use by this process for the `with` block."""
    directory = Path(directory)
    marker = marker_path(directory)
    for attempt in range(3):
        directory.mkdir(parents=True, exist_ok=True)
        try:
            marker.write_text(_start_token(os.getpid()))
            break
        except FileNotFoundError:  # a cleanup removed the (empty) directory just now: recreate it
            if attempt == 2:
                raise
    try:
        yield marker
    finally:
        try:
            marker.unlink()
        except FileNotFoundError:
            pass
