"""The time window a partitioned sync covers (shared by the sources synced by update date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SyncWindow:
    """[start, end) in UTC; `start=None` means no lower bound (a backfill of everything)."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)
