"""Daily partitions of Hub datasets by `lastModified` (UTC days)."""

from __future__ import annotations

from datetime import UTC, datetime

from dataset_catalog.defs.common.daily_partitions import DailyPartitions

# The Hub's dataset repos date from 2020; the first partition is also open towards the past
# (see defs/common/daily_partitions.py), so a backfill of every partition sees every dataset.
HF_PARTITIONS_START = "2020-01-01"

hf_daily_partitions = DailyPartitions(start_date=HF_PARTITIONS_START, timezone="UTC")

FIRST_PARTITION_START = datetime.fromisoformat(HF_PARTITIONS_START).replace(tzinfo=UTC)
