"""Whole-call deadlines for outbound calls: every client bounds each call as a whole.

Socket timeouts bound each read, so a server that sends one byte a second never trips them: a
trickle of headers or body could hold a run for ever. `call_with_deadline(fn, deadline)` runs
`fn(deadline)` in a worker thread and waits at most until the deadline; then it gives up and
raises DeadlineExceeded (a SourceUnavailableError, so callers treat it as an outage of the
source). On giving up it cancels the Deadline, which

- runs the abort hooks `fn` registered with `deadline.on_abort(...)` (shutting down the call's
  socket makes a blocked read return at once, so the worker ends too), and
- makes `deadline.check()` raise, for loops of `fn` that stop between chunks (a download).

`fn` may move its deadline later while it makes progress: `guarded_chunks` does so for a
download, chunk by chunk, so a download may take as long as it needs while it keeps a minimum
throughput, and is given up when it stalls or trickles. While `fn` runs, `current_deadline()` returns its Deadline, so code deep inside an HTTP library
(a connection pool, say) can register the socket it is about to read from.

`watched(deadline)` bounds a call without a thread per call (that costs ~0.6 ms a call on 2 busy
cores, half of a request to a local server): the call runs in the caller's thread, its connection
registers its socket (common/http.py's adapter does), and one watchdog thread per process cancels
a watched Deadline once it has passed, which shuts the socket down: the blocked read returns.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TypeVar

from dataset_catalog.errors import SourceUnavailableError

T = TypeVar("T")
WATCHDOG_INTERVAL_SECONDS = 0.05

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("dataset_catalog_deadline", default=None)


class DeadlineExceeded(SourceUnavailableError):
    """A call did not finish within its deadline (the server stalls, or sends too slowly)."""


class Deadline:
    """When a call must be done by; `what` names the call in the error."""

    def __init__(self, seconds: float, what: str):
        if seconds <= 0:
            raise ValueError("a deadline needs a positive number of seconds")
        self.what = what
        self.started = time.monotonic()
        self._at = self.started + seconds
        self._lock = threading.Lock()
        self._abort_hooks: list[Callable[[], None]] = []
        self.cancelled = False

    @property
    def at(self) -> float:
        return self._at

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def extend(self, seconds: float) -> None:
        """Allow `seconds` more from now, if that is later than the current deadline."""
        with self._lock:
            self._at = max(self._at, time.monotonic() + seconds)

    def postpone(self, seconds: float) -> None:
        """Move the deadline `seconds` later (time the call spent queued, not working)."""
        with self._lock:
            self._at += seconds

    def on_abort(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the call is given up (at once if it already was)."""
        with self._lock:
            if not self.cancelled:
                self._abort_hooks.append(hook)
                return
        _run_quietly(hook)

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            hooks, self._abort_hooks = self._abort_hooks, []
        for hook in hooks:
            _run_quietly(hook)

    def check(self) -> None:
        """Raise DeadlineExceeded once the call is given up or past its deadline."""
        if self.cancelled or self.remaining() <= 0:
            raise self.exceeded()

    def exceeded(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{self.what} did not finish within {round(time.monotonic() - self.started, 1):g} s: the server "
            "stalls or sends too slowly."
        )


def current_deadline() -> Deadline | None:
    """The Deadline of the call this code runs in, if any."""
    return _current.get()


def shut_down(sock: socket.socket | None) -> None:
    """End every read and write on `sock` at once (unlike close(), this wakes a blocked read)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed or never connected


def call_with_deadline(fn: Callable[[Deadline], T], deadline: Deadline) -> T:
    """`fn(deadline)`'s result or exception, or DeadlineExceeded once the deadline passes."""
    result: Future = Future()
    context = contextvars.copy_context()

    def work() -> None:
        context.run(_current.set, deadline)
        try:
            result.set_result(context.run(fn, deadline))
        except BaseException as exc:  # raised again in the caller's thread
            result.set_exception(exc)

    threading.Thread(target=work, name=f"deadline: {deadline.what}"[:60], daemon=True).start()
    while True:
        try:
            # Wait in slices: fn may extend its deadline meanwhile.
            return result.result(timeout=max(0.0, min(deadline.remaining(), 1.0)))
        except TimeoutError:
            if deadline.remaining() <= 0 and not result.done():
                deadline.cancel()
                raise deadline.exceeded() from None


class _Watchdog:
    """Cancels each watched Deadline once it has passed (checked every 50 ms): one thread per process."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the parent's thread and lock stay behind

    def _reset(self) -> None:
        # Held while cancelling: once unwatch() has returned, a finished call's socket (back in its
        # pool, maybe the next call's) is never shut down.
        self._lock = threading.Condition()
        self._watched: set[Deadline] = set()
        self._running = False

    def watch(self, deadline: Deadline) -> None:
        with self._lock:
            if not self._running:
                threading.Thread(target=self._run, name="deadline-watchdog", daemon=True).start()
                self._running = True
            self._watched.add(deadline)
            self._lock.notify()

    def unwatch(self, deadline: Deadline) -> None:
        with self._lock:
            self._watched.discard(deadline)

    def _run(self) -> None:
        with self._lock:
            while True:
                if not self._watched:
                    self._lock.wait()
                    continue
                self._lock.wait(WATCHDOG_INTERVAL_SECONDS)
                for deadline in [d for d in self._watched if d.remaining() <= 0]:
                    self._watched.discard(deadline)
                    deadline.cancel()


_watchdog = _Watchdog()


@contextlib.contextmanager
def watched(deadline: Deadline) -> Iterator[Deadline]:
    """Run the body as `deadline`'s call in this thread: `current_deadline()` returns it, and it is
    cancelled (its abort hooks run) once it passes. The body checks `deadline.cancelled` after a
    read that returned: a socket shut down mid-headers can look like a complete answer."""
    token = _current.set(deadline)
    _watchdog.watch(deadline)
    try:
        yield deadline
    finally:
        _watchdog.unwatch(deadline)
        _current.reset(token)


def guarded_chunks(
    read: Callable[[], bytes],
    deadline: Deadline,
    *,
    stall_seconds: float,
    min_bytes_per_second: float,
    grace_seconds: float,
) -> Iterator[bytes]:
    """The chunks `read()` returns (as soon as any bytes arrive) until it returns b"".

    Each chunk moves the deadline to `stall_seconds` from now, so silence that long ends the
    call; after `grace_seconds` the average rate must stay at `min_bytes_per_second` or more,
    so a trickle ends it too. A given-up call stops at the next chunk.
    """
    started, received = time.monotonic(), 0
    while chunk := read():
        deadline.check()
        received += len(chunk)
        elapsed = time.monotonic() - started
        if elapsed > grace_seconds and received < elapsed * min_bytes_per_second:
            raise DeadlineExceeded(
                f"{deadline.what} came at {received / elapsed / 1024:.1f} KiB/s on average over {elapsed:.0f} s, "
                f"below the minimum of {min_bytes_per_second / 1024:g} KiB/s."
            )
        deadline.extend(stall_seconds)
        yield chunk


def _run_quietly(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:  # an abort hook must never hide why the call was given up
        pass
