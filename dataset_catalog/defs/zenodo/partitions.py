"""Daily partitions of Zenodo records by their OAI-PMH datestamp (last update, UTC days)."""

from __future__ import annotations

from datetime import UTC, datetime

from dataset_catalog.defs.common.daily_partitions import DailyPartitions

# Zenodo opened in May 2013; the first partition is also open towards the past (defs/common/daily_partitions.py),
# so a backfill of every partition sees every record whatever its datestamp.
ZENODO_PARTITIONS_START = "2013-05-01"
# A range backfill runs this many days per run, each one OAI-PMH list: a failure costs at most one
# such chunk (and not even that: its committed batches stay), and a backfill of all ~4,960 days is
# ~160 runs, not 4,960 (each run costs at least one request at 30 a minute, and run overhead).
MAX_PARTITIONS_PER_RUN = 31

zenodo_daily_partitions = DailyPartitions(start_date=ZENODO_PARTITIONS_START, timezone="UTC")

FIRST_PARTITION_START = datetime.fromisoformat(ZENODO_PARTITIONS_START).replace(tzinfo=UTC)
