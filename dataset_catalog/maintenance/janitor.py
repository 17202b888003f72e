"""The broken-link janitor as a plain function: pick a batch, probe it, record the outcomes."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.catalog.link_state import LinkOutcome, LinkThresholds, record_link_outcomes, select_link_batch
from dataset_catalog.catalog.schema import LinkStatus
from dataset_catalog.maintenance.http_probe import ProbeSettings
from dataset_catalog.maintenance.link_checker import HostGate, LinkTarget, check_links

logger = logging.getLogger(__name__)
SAMPLE_FAILURES = 10


@dataclass(frozen=True)
class JanitorSettings:
    probe: ProbeSettings
    thresholds: LinkThresholds = field(default_factory=LinkThresholds)
    batch_size: int = 500
    concurrency: int = 16
    per_host_limit: int = 4
    per_host_interval_seconds: float = 0.05


@dataclass
class JanitorReport:
    checked: int = 0
    ok: int = 0
    broken: int = 0
    transient: int = 0
    blocked: int = 0
    deactivated: int = 0
    reactivated: int = 0
    seconds: float = 0.0
    by_status: Counter = field(default_factory=Counter)
    max_in_flight_per_host: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def urls_per_second(self) -> float:
        return self.checked / self.seconds if self.seconds > 0 else 0.0


def run_link_janitor(store: CatalogStore, settings: JanitorSettings, *, log: Any = logger) -> JanitorReport:
    """Check the `batch_size` least recently checked rows and record link state."""
    started = time.monotonic()
    batch = select_link_batch(store, settings.batch_size, settings.thresholds)
    log.info(f"Checking {len(batch)} dataset URLs (batch_size={settings.batch_size})")
    gate = HostGate(settings.per_host_limit, settings.per_host_interval_seconds)
    checks = check_links(
        [LinkTarget(dataset_id, url) for dataset_id, url in batch],
        settings.probe,
        concurrency=settings.concurrency,
        gate=gate,
    )
    outcomes = [
        LinkOutcome(
            c.target.dataset_id,
            c.result.status,
            c.result.http_status,
            c.checked_at,
            definitive=c.result.status in LinkStatus.DEFINITIVE,
        )
        for c in checks
    ]
    counts = record_link_outcomes(store, outcomes, settings.thresholds)
    report = JanitorReport(checked=len(checks), deactivated=counts.deactivated, reactivated=counts.reactivated)
    for check in checks:
        status = check.result.status
        report.by_status[status] += 1
        report.ok += status == LinkStatus.OK
        report.broken += status in LinkStatus.DEFINITIVE
        report.transient += status in LinkStatus.TRANSIENT_KINDS
        report.blocked += status == LinkStatus.BLOCKED
        if status != LinkStatus.OK and len(report.failures) < SAMPLE_FAILURES:
            report.failures.append(
                {
                    "dataset_id": check.target.dataset_id,
                    "url": check.target.url,
                    "status": status,
                    "http_status": check.result.http_status,
                    "error": check.result.error,
                }
            )
    report.max_in_flight_per_host = max(gate.max_in_flight.values(), default=0)
    report.seconds = time.monotonic() - started
    log.info(
        f"Checked {report.checked} URLs in {report.seconds:.1f} s: {report.ok} ok, {report.broken} broken, "
        f"{report.transient} transient, {report.blocked} blocked; {report.deactivated} deactivated, "
        f"{report.reactivated} reactivated"
    )
    return report
