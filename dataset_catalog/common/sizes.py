"""One size vocabulary: the Hub's size categories by example count, their names, and the
category of a dataset from another source by its row count (facet, filter and query understanding)."""

from __future__ import annotations

# The Hub's size categories, as (lowest, highest) example counts.
SIZE_CATEGORIES: tuple[tuple[str, int, float], ...] = (
    ("n<1K", 0, 1e3),
    ("1K<n<10K", 1e3, 1e4),
    ("10K<n<100K", 1e4, 1e5),
    ("100K<n<1M", 1e5, 1e6),
    ("1M<n<10M", 1e6, 1e7),
    ("10M<n<100M", 1e7, 1e8),
    ("100M<n<1B", 1e8, 1e9),
    ("1B<n<10B", 1e9, 1e10),
    ("10B<n<100B", 1e10, 1e11),
    ("100B<n<1T", 1e11, 1e12),
    ("n>1T", 1e12, float("inf")),
)
SIZE_NAMES = {
    "n<1K": "Under 1K rows",
    "1K<n<10K": "1K–10K rows",
    "10K<n<100K": "10K–100K rows",
    "100K<n<1M": "100K–1M rows",
    "1M<n<10M": "1M–10M rows",
    "10M<n<100M": "10M–100M rows",
    "100M<n<1B": "100M–1B rows",
    "1B<n<10B": "1B–10B rows",
    "10B<n<100B": "10B–100B rows",
    "100B<n<1T": "100B–1T rows",
    "n>1T": "Over 1T rows",
}


def size_category_of(size_category: str | None, row_count: int | None) -> str | None:
    """The Hub size category a dataset is in: its own, else the one its row count falls in."""
    if size_category in SIZE_NAMES:
        return size_category
    if row_count is None or row_count < 0:
        return None
    return next(name for name, low, high in SIZE_CATEGORIES if low <= row_count < high)
