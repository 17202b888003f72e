"""Embedding units: the catalog split into independent pieces of embedding work, one per source
and hash bucket of the row id, so a backfill runs them as separate runs on as many workers as
there are, each idempotent and killable (a unit's rows are disjoint from every other unit's).

The bucket is `id % UNIT_BUCKETS`: ids are the catalog's own keys, assigned once and never
reused by an upsert, so a row stays in its unit for life and every unit gets an even share.
"""

from __future__ import annotations

from dataclasses import dataclass

from dataset_catalog.common.sources import catalog_sources
from dataset_catalog.errors import DatasetCatalogError

UNIT_BUCKETS = 16


class UnknownUnitError(DatasetCatalogError):
    """A partition key that names no embedding unit."""


@dataclass(frozen=True)
class EmbeddingUnit:
    source: str
    bucket: int
    buckets: int = UNIT_BUCKETS

    @property
    def key(self) -> str:
        return f"{self.source}-{self.bucket:02d}"

    @classmethod
    def parse(cls, key: str, buckets: int = UNIT_BUCKETS) -> EmbeddingUnit:
        source, _, bucket = key.rpartition("-")
        if source not in catalog_sources() or not bucket.isdigit() or not 0 <= int(bucket) < buckets:
            raise UnknownUnitError(
                f"{key!r} is no embedding unit: a unit is <source>-<bucket>, a source among "
                f"{', '.join(catalog_sources())} and a bucket 00-{buckets - 1:02d} (e.g. huggingface-03)."
            )
        return cls(source, int(bucket), buckets)


def all_units(buckets: int = UNIT_BUCKETS) -> list[EmbeddingUnit]:
    return [EmbeddingUnit(source, bucket, buckets) for source in catalog_sources() for bucket in range(buckets)]
