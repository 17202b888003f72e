"""Kaggle test helpers: pacing measured at the fake (the fixtures are in the root conftest)."""

from __future__ import annotations

# Loopback delivery varies by a few ms between two requests on a loaded machine; the pacer itself
# never undershoots, so single gaps get this much slack and the whole span none beyond it.
PACING_JITTER = 0.03


def assert_paced(requests, requests_per_second: float) -> None:
    """The fake saw these requests no faster than `requests_per_second`."""
    interval = 1.0 / requests_per_second
    times = sorted(r.at for r in requests)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps, "need at least two requests to measure a pace"
    assert min(gaps) >= interval - PACING_JITTER, f"gap {min(gaps):.3f}s < interval {interval:.3f}s"
    assert times[-1] - times[0] >= (len(times) - 1) * interval - PACING_JITTER
