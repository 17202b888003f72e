"""A no-op re-run of the embedding path over N already-embedded rows: 0 embedded, time.

PYTHONPATH=. python benchmarks/bench_noop_rerun.py [N=100000] [--pg]
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import nullcontext

from common import Timer, load_catalog, load_conditions, pg_database

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.encoder import load_encoder
from dataset_catalog.embeddings.sync import embed_datasets


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 100_000))
    use_pg = "--pg" in sys.argv
    encoder = load_encoder()
    with (
        pg_database("noop") if use_pg else nullcontext(None) as pg_url,
        tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp,
    ):
        store = CatalogStore(pg_url or f"sqlite:///{tmp}/c.sqlite3")
        print(f"{store.dialect}: loading {n} rows; {load_conditions()}")
        load_catalog(store, n, encoder)
        for attempt in (1, 2):
            with Timer() as t:
                report = embed_datasets(store, encoder)
            print(
                f"no-op run {attempt}: embedded={report.embedded} unchanged={report.unchanged} failed={report.failed} "
                f"in {t.seconds:.2f} s (target: 0 embedded, < 5 s) | {load_conditions()}"
            )


if __name__ == "__main__":
    main()
