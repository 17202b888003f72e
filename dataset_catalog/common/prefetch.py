"""Fetch the next page of a listing while the current one is processed.

Only pages the walk will certainly need are fetched ahead: `wanted_after(page)` decides from
the page just fetched whether the walk will ask for another, so an early stop never costs an
extra request compared with a plain walk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Page = TypeVar("Page")

_END = object()


def prefetched(pages: Iterable[Page], wanted_after: Callable[[Page], bool]) -> Iterator[Page]:
    handoff: queue.Queue = queue.Queue(maxsize=1)
    closed = threading.Event()

    def fetch() -> None:
        iterator = iter(pages)
        try:
            while not closed.is_set():
                try:
                    page = next(iterator)
                except StopIteration:
                    break
                handoff.put(page)
                if not wanted_after(page):
                    break
        except BaseException as exc:  # raised again in the consumer's thread
            handoff.put(exc)
            return
        handoff.put(_END)

    thread = threading.Thread(target=fetch, name="listing-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        closed.set()
        try:  # unblock a fetcher waiting to hand over a page nobody will take
            handoff.get_nowait()
        except queue.Empty:
            pass
