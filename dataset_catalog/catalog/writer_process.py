"""Catalog upserts in a child process, so a long sync keeps a second core busy writing.

A sync's own work (HTTP, parsing, mapping) holds the GIL nearly all the time. A writer *thread*
barely overlaps with it: the driver releases the GIL for each row's database step and then
waits to get it back (measured on the Hub benchmark: 5.5 s threaded vs 5.9 s in sequence).
Here a child process writes the batches, in order, one transaction each, through the same code
and rule as `CatalogStore.upsert_datasets` (catalog/upserts.py). A batch is one of:

- dict rows: the parent runs the CPU half of the upsert (`prepare_upsert`: checks, hashes,
  bound parameters) and the child the database half (`execute_upsert`);
- with a `merge` step: items grouped by key (the versions of one work, say), turned into rows
  by `merge(store, batch)` in the child, which reads what the catalog stores of them first. As
  the child writes batch after batch, each merge sees what the previous batches wrote.

Protocol: the parent writes length-prefixed frames to the child's stdin (first a header with the
database URL, kept out of argv so it never shows in `ps`, and the merge step, pickled by name;
then one pickled batch each) and reads one JSON line per batch from its stdout: the counts (and
the first merged rows, for a preview), or the error that stopped it. Pickle is safe here: both
ends are this package, talking over a private pipe. If the parent dies, the child reads EOF,
drops any half-received frame and exits: every batch is committed whole or not at all, as with
in-process writes.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Hashable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from dataset_catalog.catalog.store import CatalogStore
from dataset_catalog.catalog.upserts import UpsertCounts, execute_upsert, prepare_upsert
from dataset_catalog.common.gc_tuning import fewer_gc_passes
from dataset_catalog.errors import CatalogWriteError

_FRAME_HEADER = struct.Struct(">Q")
_DONE = object()

# A module-level function (the child imports it by name): a batch {key: [items]} -> its rows.
MergeRows = Callable[[CatalogStore, dict[Hashable, list[Any]]], list[dict[str, Any]]]
# Called with each batch's counts and, for merged batches, its first rows (until `preview_rows`).
OnWritten = Callable[[UpsertCounts, list[dict[str, Any]]], None]


def write_batch(
    store: CatalogStore,
    batch: Sequence[dict[str, Any]] | dict[Hashable, list[Any]],
    groups: Sequence[str] | None,
    merge: MergeRows | None,
    insert_only: Collection[str] = (),
) -> tuple[UpsertCounts, list[dict[str, Any]]]:
    """One batch written in one transaction: (its counts, the rows a merge made, else [])."""
    if merge is None:
        return store.upsert_datasets(batch, insert_only=insert_only, groups=groups), []
    rows = merge(store, batch)
    return store.upsert_datasets(rows, insert_only=insert_only, groups=groups), rows


class _Writer:
    """What every writer is given: where to write, whom to tell, and how batches become rows."""

    def __init__(
        self,
        store: CatalogStore,
        on_written: OnWritten,
        *,
        merge: MergeRows | None = None,
        insert_only: Collection[str] = (),
        preview_rows: int = 0,
    ):
        self._store, self._on_written, self._merge = store, on_written, merge
        self._insert_only, self._preview_left = frozenset(insert_only), preview_rows


class CatalogWriterProcess(_Writer):
    """Writes batches in a child process; `submit` returns once the batch is serialised and
    queued (at most `max_pending` wait). `on_written` gets each batch's counts, in order, from a
    reader thread. An error in the child is raised as CatalogWriteError at the next `submit` or
    at `close`."""

    def __init__(self, store: CatalogStore, on_written: OnWritten, *, max_pending: int = 16, **options: Any):
        super().__init__(store, on_written, **options)
        self._error: BaseException | None = None
        self._finished = False
        self._frames: queue.Queue = queue.Queue(maxsize=max_pending)
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        header = {
            "database_url": store.database_url,
            "merge": self._merge,
            "insert_only": self._insert_only,
            "preview_rows": self._preview_left,
        }
        self._frames.put(pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL))
        self._feeder = threading.Thread(target=self._feed, name="catalog-writer-feed", daemon=True)
        self._reader = threading.Thread(target=self._read, name="catalog-writer-read", daemon=True)
        self._feeder.start()
        self._reader.start()

    def submit(
        self, batch: Sequence[dict[str, Any]] | dict[Hashable, list[Any]], groups: Sequence[str] | None = None
    ) -> None:
        """Queue dict rows, or with a merge step {key: [items]}; `groups`: a label per row / key."""
        self._raise_if_failed()
        if not batch:
            return
        if self._merge is None:
            dialect = self._store.engine.dialect
            frame = prepare_upsert(dialect, batch, insert_only=self._insert_only, groups=groups)
        else:
            frame = (batch, groups)
        self._frames.put(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """Wait until every submitted batch is committed; raise the child's error, if any."""
        self._finish()
        self._raise_if_failed()

    def __enter__(self) -> CatalogWriterProcess:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # still commit what was handed over, so committed batches match what was reported
            self._finish()

    # -- parent side ----------------------------------------------------------------------
    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._frames.put(_DONE)
        self._feeder.join()
        self._process.wait()
        self._reader.join()
        if self._process.returncode != 0 and self._error is None:
            self._error = CatalogWriteError(
                f"The catalog writer process exited with code {self._process.returncode}; batches "
                "committed before it are kept. Re-run to write the rest."
            )

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _feed(self) -> None:
        pipe = self._process.stdin
        broken = False
        while (frame := self._frames.get()) is not _DONE:
            if broken:
                continue  # keep draining so submit never blocks on a dead child
            try:
                pipe.write(_FRAME_HEADER.pack(len(frame)))
                pipe.write(frame)
                pipe.flush()
            except (BrokenPipeError, OSError):
                broken = True  # the child stopped; its reply (read by _read) says why
        try:
            pipe.close()
        except (BrokenPipeError, OSError):
            pass

    def _read(self) -> None:
        for line in self._process.stdout:
            reply = orjson.loads(line)
            if "error" in reply:
                self._error = CatalogWriteError(reply["error"])
                continue
            try:
                by_group = tuple(tuple(g) for g in reply["by_group"])
                counts = UpsertCounts(reply["inserted"], reply["updated"], reply["unchanged"], by_group)
                self._on_written(counts, reply["rows"])
            except BaseException as exc:  # raised again in the caller's thread
                self._error = exc


class InlineWriter(_Writer):
    """The writer interface, writing each batch at once in the caller's thread."""

    def submit(
        self, batch: Sequence[dict[str, Any]] | dict[Hashable, list[Any]], groups: Sequence[str] | None = None
    ) -> None:
        if batch:
            counts, rows = write_batch(self._store, batch, groups, self._merge, self._insert_only)
            shown, self._preview_left = rows[: self._preview_left], max(self._preview_left - len(rows), 0)
            self._on_written(counts, shown)

    def __enter__(self) -> InlineWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def open_writer(
    store: CatalogStore, on_written: OnWritten, *, in_process: bool = False, **options: Any
) -> CatalogWriterProcess | InlineWriter:
    """A writer for a run of batches (`options`: merge, insert_only, preview_rows): a child process,
    unless `in_process` or the catalog is an in-memory SQLite database (which no other process,
    nor another thread's connection, can see)."""
    url = store.engine.url
    if in_process or (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")):
        return InlineWriter(store, on_written, **options)
    return CatalogWriterProcess(store, on_written, **options)


# -- child side ---------------------------------------------------------------------------
def _read_frame(stream: BinaryIO) -> bytes | None:
    """The next whole frame, or None at EOF (a frame cut short by a dying parent is dropped)."""
    header = stream.read(_FRAME_HEADER.size)
    if len(header) < _FRAME_HEADER.size:
        return None
    (length,) = _FRAME_HEADER.unpack(header)
    frame = stream.read(length)
    return frame if len(frame) == length else None


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Write each batch read from `requests`; reply with its counts (or the error, then stop)."""
    header = _read_frame(requests)
    if header is None:
        return
    settings = pickle.loads(header)
    merge, insert_only, preview_left = settings["merge"], settings["insert_only"], settings["preview_rows"]
    try:
        store = CatalogStore(settings["database_url"])
    except Exception as exc:  # e.g. the server went away since the parent opened the catalog
        _reply(replies, {"error": f"The catalog writer process could not open the catalog: {exc}"})
        return
    with store, fewer_gc_passes():
        while (frame := _read_frame(requests)) is not None:
            try:
                if merge is None:
                    counts, rows = execute_upsert(store, pickle.loads(frame)), []
                else:
                    counts, rows = write_batch(store, *pickle.loads(frame), merge, insert_only)
                reply = {
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "by_group": counts.by_group,
                    "rows": rows[:preview_left],
                }
                preview_left = max(preview_left - len(rows), 0)
            except Exception as exc:  # reported to the parent, which raises it in the run
                detail = getattr(exc, "orig", None) or exc
                reply = {
                    "error": f"Writing a batch to the catalog ({store.display_url}) failed: "
                    f"{type(detail).__name__}: {str(detail)[:2000]}. Batches committed before "
                    "it are kept; fix the cause and re-run."
                }
            _reply(replies, reply)
            if "error" in reply:
                return


def _reply(replies: BinaryIO, reply: dict) -> None:
    # default=str: a merged row's values are JSON but for the odd type (a Decimal, say)
    replies.write(orjson.dumps(reply, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n")
    replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # stray prints must not corrupt the reply stream
    try:
        serve(sys.stdin.buffer, replies)
    except BrokenPipeError:  # the parent is gone; what was committed stays committed
        pass


if __name__ == "__main__":
    main()
