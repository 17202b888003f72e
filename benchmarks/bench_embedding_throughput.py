"""Throughput of the asset's embedding path (embed_datasets: read rows, build texts, hash, encode,
write) vs raw `model.encode` on the same texts, alternating in one process.

    PYTHONPATH=. python benchmarks/bench_embedding_throughput.py [N=512] [--pg]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext

from common import Timer, load_conditions, pg_database

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic import make_row

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.encoder import load_encoder
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.embeddings.text import build_embedding_text


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 512))
    use_pg = "--pg" in sys.argv
    encoder = load_encoder()
    rows = [make_row(i) for i in range(n)]
    texts = [build_embedding_text(r) for r in rows]
    words = [len(t.split()) for t in texts]
    print(
        f"{n} texts, {min(words)}-{max(words)} words (mean {statistics.fmean(words):.0f}); batch {encoder.batch_size}; {load_conditions()}"
    )
    encoder.encode(texts[:64])  # warm-up
    raw, asset, raw_cpu, asset_cpu = [], [], [], []
    rounds = 5
    for round_ in range(rounds):
        c0 = time.process_time()
        with Timer() as t:
            encoder.model.encode(
                texts, batch_size=encoder.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        raw.append(n / t.seconds)
        raw_cpu.append(n / (time.process_time() - c0))
        with pg_database("tput") if use_pg else nullcontext(None) as pg_url, tempfile.TemporaryDirectory() as tmp:
            store = CatalogStore(pg_url or f"sqlite:///{tmp}/c.sqlite3")
            store.upsert_datasets(rows)
            c0 = time.process_time()
            with Timer() as t:
                report = embed_datasets(store, encoder)
            assert report.embedded == n, report
            asset.append(n / t.seconds)
            asset_cpu.append(n / (time.process_time() - c0))
        print(
            f"round {round_ + 1}: raw encode {raw[-1]:.1f} texts/s | asset path {asset[-1]:.1f} texts/s "
            f"(encode-only {report.texts_per_second:.1f}) | wall ratio {asset[-1] / raw[-1]:.3f} "
            f"| per-CPU-second ratio {asset_cpu[-1] / raw_cpu[-1]:.3f} | {load_conditions()}"
        )
    ratios = [a / r for a, r in zip(asset, raw, strict=True)]
    cpu_ratios = [a / r for a, r in zip(asset_cpu, raw_cpu, strict=True)]
    print(
        f"{'PostgreSQL' if use_pg else 'SQLite'}: median raw {statistics.median(raw):.1f} texts/s, "
        f"median asset {statistics.median(asset):.1f} texts/s, median wall ratio {statistics.median(ratios):.3f}, "
        f"sum-of-walls ratio {sum(n / a for a in raw) / sum(n / a for a in asset):.3f}, "
        f"median per-CPU-second ratio {statistics.median(cpu_ratios):.3f} (target >= 0.95)"
    )


if __name__ == "__main__":
    main()
