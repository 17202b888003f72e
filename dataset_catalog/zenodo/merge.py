"""Merging harvested versions into their works and writing them, in a child process.

The harvest's own work (HTTP, XML, mapping) holds the GIL nearly all the time; writing a batch of
works means reading their stored state, merging (mapping.merge_work), hashing and upserting. A
child process does that second half on a second core, batch after batch, in order, so each batch
reads what the previous one wrote (catalog/writer_process.py does the same for plain upserts;
its child only executes prepared statements, and the merge needs the stored rows, so it can't be
reused as is). One transaction per batch, through CatalogStore only.

Protocol: length-prefixed pickled frames on the child's stdin (first the database URL, kept out of
argv), one JSON line per batch on its stdout: the counts and preview rows, or the error that
stopped it. Pickle is safe: both ends are this package, over a private pipe. If the parent dies,
the child reads EOF, drops any half-received frame and exits: a batch is committed whole or not.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from dataset_catalog.catalog import CatalogStore, UpsertCounts
from dataset_catalog.errors import CatalogWriteError
from dataset_catalog.zenodo.mapping import SOURCE, merge_work, work_row

_HEADER = struct.Struct(">Q")
_DONE = object()
PREVIEW_COLUMNS = ("external_id", "title", "license", "source_updated_at")

Pending = dict[int, list[dict[str, Any]]]  # concept record id -> its versions in this batch
OnWritten = Callable[[UpsertCounts, list[dict[str, Any]]], None]


def write_works(store: CatalogStore, pending: Pending) -> tuple[UpsertCounts, list[dict[str, Any]]]:
    """Merge each work's new versions into its stored state and upsert the rows in one transaction;
    (counts by day of each work's newest datestamp in the batch, a preview of the rows)."""
    ids = [str(concept) for concept in pending]
    stored = store.source_meta_of(SOURCE, ids)
    rows, days = [], []
    for concept, versions in pending.items():
        meta = stored.get(str(concept))
        rows.append(work_row(merge_work(meta if isinstance(meta, dict) else None, versions)))
        days.append(max(v["datestamp"] for v in versions)[:10])
    counts = store.upsert_datasets(rows, groups=days)
    preview = [{c: (str(r[c]) if c == "source_updated_at" else r[c]) for c in PREVIEW_COLUMNS} for r in rows[:10]]
    return counts, preview


class InlineWorksWriter:
    """Writes each batch at once in the caller's thread (in-memory SQLite, which no child can see)."""

    def __init__(self, store: CatalogStore, on_written: OnWritten):
        self._store, self._on_written = store, on_written

    def submit(self, pending: Pending) -> None:
        self._on_written(*write_works(self._store, pending))

    def __enter__(self) -> InlineWorksWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class WorksWriterProcess:
    """`submit` queues a batch (at most `max_pending` wait); `on_written` gets each batch's counts, in
    order, from a reader thread. An error in the child is raised at the next `submit` or at exit."""

    def __init__(self, store: CatalogStore, on_written: OnWritten, *, max_pending: int = 8):
        self._on_written = on_written
        self._error: BaseException | None = None
        self._finished = False
        self._frames: queue.Queue = queue.Queue(maxsize=max_pending)
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        self._frames.put(orjson.dumps({"database_url": store.database_url}))
        self._feeder = threading.Thread(target=self._feed, name="zenodo-writer-feed", daemon=True)
        self._reader = threading.Thread(target=self._read, name="zenodo-writer-read", daemon=True)
        self._feeder.start()
        self._reader.start()

    def submit(self, pending: Pending) -> None:
        if self._error is not None:
            raise self._error
        self._frames.put(pickle.dumps(pending, protocol=pickle.HIGHEST_PROTOCOL))

    def __enter__(self) -> WorksWriterProcess:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._finish()  # also after an error: what was handed over is committed, as reported
        if exc_type is None and self._error is not None:
            raise self._error

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
                f"The Zenodo writer process exited with code {self._process.returncode}; batches committed "
                "before it are kept. Re-run the partition to write the rest."
            )

    def _feed(self) -> None:
        pipe, broken = self._process.stdin, False
        while (frame := self._frames.get()) is not _DONE:
            if broken:
                continue  # keep draining so submit never blocks on a dead child
            try:
                pipe.write(_HEADER.pack(len(frame)) + frame)
                pipe.flush()
            except (BrokenPipeError, OSError):
                broken = True  # the child stopped; its reply says why
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
                counts = UpsertCounts(
                    reply["inserted"], reply["updated"], reply["unchanged"], tuple(tuple(g) for g in reply["by_group"])
                )
                self._on_written(counts, reply["preview"])
            except BaseException as exc:  # raised again in the caller's thread
                self._error = exc


def open_works_writer(store: CatalogStore, on_written: OnWritten):
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return InlineWorksWriter(store, on_written)
    return WorksWriterProcess(store, on_written)


# -- child side ---------------------------------------------------------------------------
def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    frame = stream.read(length)
    return frame if len(frame) == length else None  # cut short by a dying parent: dropped


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    header = _read_frame(requests)
    if header is None:
        return
    try:
        store = CatalogStore(orjson.loads(header)["database_url"])
    except Exception as exc:
        _reply(replies, {"error": f"The Zenodo writer process could not open the catalog: {exc}"})
        return
    with store:
        while (frame := _read_frame(requests)) is not None:
            try:
                counts, preview = write_works(store, pickle.loads(frame))
                reply = {
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                    "unchanged": counts.unchanged,
                    "by_group": counts.by_group,
                    "preview": preview,
                }
            except Exception as exc:
                detail = getattr(exc, "orig", None) or exc
                reply = {
                    "error": f"Writing Zenodo works to the catalog ({store.display_url}) failed: "
                    f"{type(detail).__name__}: {str(detail)[:2000]}. Batches committed before it are "
                    "kept; fix the cause and re-run."
                }
            _reply(replies, reply)
            if "error" in reply:
                return


def _reply(replies: BinaryIO, reply: dict) -> None:
    replies.write(orjson.dumps(reply) + b"\n")
    replies.flush()


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # stray prints must not corrupt the reply stream
    try:
        serve(sys.stdin.buffer, replies)
    except BrokenPipeError:
        pass


if __name__ == "__main__":
    main()
