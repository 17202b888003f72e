"""Native memory of the service process: every request thread allocates from its own glibc
malloc arena (up to 8 per core), and what it frees stays with the arena: RSS rose under
concurrent clients and was never given back. `bound_native_memory` caps the arenas,
`give_back_native_memory` trims them (the app does when idle). Elsewhere than glibc, nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

MALLOC_ARENAS = 2  # unless MALLOC_ARENA_MAX says otherwise
_M_ARENA_MAX = -8  # glibc's mallopt parameter


@functools.cache
def _glibc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None  # not glibc (musl, macOS)


def bound_native_memory() -> None:
    """At most MALLOC_ARENAS malloc arenas from now on, unless MALLOC_ARENA_MAX is set (glibc
    read it at start). Call it before the request threads start; elsewhere than glibc, nothing."""
    libc = _glibc()
    if libc is not None and not os.environ.get("MALLOC_ARENA_MAX"):
        libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def give_back_native_memory() -> None:
    """Return the free memory of every malloc arena to the system (glibc's malloc_trim)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
