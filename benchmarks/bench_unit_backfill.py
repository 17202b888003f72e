"""Wall time of an embedding backfill of every unit (dataset_embedding_units) with 1 vs 2 workers
on one machine: each worker is a process that loads the model once and takes units from a shared
queue, as a dagster-celery worker's process does across its tasks; the catalog is a fresh SQLite
copy of N synthetic rows for each round, rounds alternate 1, 2, 1, 2 ...

    PYTHONPATH=. python benchmarks/bench_unit_backfill.py [N=20000] [--rounds 1] [--backend torch]

With 2 workers each process runs torch (or ONNX Runtime) on half the cores, as two workers on
one 2-core machine would; with 1 it has them all. Prints the seconds per round, the ratio, and
the projection for a full catalog with 8 workers from the measured per-worker texts/s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _worker(url: str, queue, threads: int, backend: str, done) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if backend != "torch":
        os.environ["DATASET_CATALOG_EMBEDDING_BACKEND"] = backend
    import torch

    torch.set_num_threads(threads)
    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.embeddings.encoder import load_encoder
    from dataset_catalog.embeddings.sync import embed_datasets
    from dataset_catalog.embeddings.units import EmbeddingUnit

    encoder = load_encoder()
    embedded = 0
    with CatalogStore(url) as store:
        while True:
            key = queue.get()
            if key is None:
                break
            embedded += embed_datasets(store, encoder, unit=EmbeddingUnit.parse(key)).embedded
    done.put(embedded)


def backfill(template: Path, workers: int, backend: str) -> tuple[float, int]:
    from dataset_catalog.embeddings.units import all_units

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.sqlite3"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
        ctx = mp.get_context("spawn")
        queue, done = ctx.Queue(), ctx.Queue()
        for unit in all_units():
            queue.put(unit.key)
        for _ in range(workers):
            queue.put(None)
        threads = max(1, (os.cpu_count() or 2) // workers)
        started = time.perf_counter()
        processes = [ctx.Process(target=_worker, args=(url, queue, threads, backend, done)) for _ in range(workers)]
        for p in processes:
            p.start()
        embedded = sum(done.get() for _ in processes)
        for p in processes:
            p.join()
        return time.perf_counter() - started, embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--backend", default="torch")
    args = parser.parse_args()
    from synthetic import make_row

    from dataset_catalog.catalog import CatalogStore

    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.sqlite3"
        with CatalogStore(f"sqlite:///{template}") as store:
            for start in range(0, args.n, 5000):
                store.upsert_datasets([make_row(i) for i in range(start, min(args.n, start + 5000))])
        seconds: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for workers in (1, 2):
                wall, embedded = backfill(template, workers, args.backend)
                assert embedded == args.n, (embedded, args.n)
                seconds[workers].append(wall)
                print(f"{workers} worker(s): {wall:.1f} s for {embedded} texts", flush=True)
    one, two = statistics.median(seconds[1]), statistics.median(seconds[2])
    per_machine = args.n / two  # texts/s of one 2-core machine running 2 workers
    print(
        json.dumps(
            {
                "texts": args.n,
                "backend": args.backend,
                "seconds_1_worker": round(one, 1),
                "seconds_2_workers": round(two, 1),
                "ratio_2_to_1": round(two / one, 2),
                "texts_per_second_per_2_core_machine": round(per_machine, 1),
                "projected_hours_2M_rows_8_machines": round(2_000_000 / (8 * per_machine) / 3600, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
