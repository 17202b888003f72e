"""Overlap database writes with fetching: batches are written by one background thread.

The database driver releases the GIL while it executes, so the next page can be fetched and
mapped meanwhile. Order is kept (one writer), at most `max_pending` batches wait in memory,
and an error in the writer is raised in the caller at the next submit or at close.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Batch = TypeVar("Batch")
Result = TypeVar("Result")

_DONE = object()


class BackgroundWriter(Generic[Batch, Result]):
    def __init__(self, write: Callable[[Batch], Result], on_written: Callable[[Result], None], max_pending: int = 2):
        self._write = write
        self._on_written = on_written
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="catalog-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is _DONE:
                return
            if self._error is None:
                try:
                    self._on_written(self._write(batch))
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, batch: Batch) -> None:
        self._raise_if_failed()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until every submitted batch is written; raise the writer's error, if any."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise_if_failed()

    def __enter__(self) -> BackgroundWriter[Batch, Result]:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # still finish what was handed over, so committed batches match what was reported
            self._queue.put(_DONE)
            self._thread.join()
