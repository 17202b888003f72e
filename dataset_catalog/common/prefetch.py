"""Produce the next item of a slow iterator in a thread while the caller works on this one.

Used for the Hub listing (the next page is fetched while this one is mapped) and the Meta Kaggle
seed (DuckDB builds the next batch while this one is written). `wanted_after(item)` says whether
the caller will certainly ask for another item; when it returns False nothing more is fetched,
so an early stop never costs an extra request compared with a plain loop. When the caller stops
(end, exception, early close) the producer stops too and is joined: nothing keeps reading a
source (e.g. a DuckDB connection) that the caller is about to close.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def prefetched(
    items: Iterable[T], wanted_after: Callable[[T], bool] | None = None, *, name: str = "prefetch"
) -> Iterator[T]:
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(entry: tuple) -> bool:
        """Put `entry` for the caller unless it has stopped taking them."""
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
                if wanted_after is not None and not wanted_after(item):
                    break
        except BaseException as exc:  # raised again in the caller's thread
            hand_over((_END, exc))
            return
        hand_over((_END, None))

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        producer.join()
