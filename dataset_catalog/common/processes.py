"""Which process runs a job, and whether it still exists: what tells a killed run from a live one.

A process is named by host, pid and its start time: a pid alone can be reused by a later, unrelated
process, the start time cannot. Only processes on this host can be checked; for another host's the
answer is "unknown", never "gone".
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    pid: int
    started_at: float  # psutil's create_time(), seconds since the epoch

    def to_tag(self) -> str:
        return f"{self.host}:{self.pid}:{self.started_at:.2f}"

    @classmethod
    def from_tag(cls, value: str) -> ProcessIdentity | None:
        """The identity a tag holds, or None for a value this module did not write."""
        host, _, rest = value.rpartition(":")
        host, _, pid = host.rpartition(":")
        try:
            return cls(host, int(pid), float(rest)) if host else None
        except ValueError:
            return None


def this_host() -> str:
    return socket.gethostname()


def current_process() -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(this_host(), pid, round(psutil.Process(pid).create_time(), 2))


def is_gone(identity: ProcessIdentity) -> bool:
    """True only when `identity` is a process of this host that no longer exists (or whose pid now
    belongs to a later process); False for a live process and for any other host's."""
    if identity.host != this_host():
        return False
    try:
        process = psutil.Process(identity.pid)
        started_at, status = round(process.create_time(), 2), process.status()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # e.g. AccessDenied: it exists
        return False
    # A killed child its parent has not waited for yet is a zombie: dead all the same. create_time is
    # derived from boot time and clock ticks: allow for rounding.
    return status == psutil.STATUS_ZOMBIE or abs(started_at - identity.started_at) > 1.0
