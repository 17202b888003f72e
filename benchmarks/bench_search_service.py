"""Warm `GET /api/search` over HTTP against `dataset-catalog serve` on the embedded default
(SQLite) at N synthetic datasets, with 4 concurrent keep-alive clients.

    PYTHONPATH=. python benchmarks/bench_search_service.py [N=500000] [--clients 4] [--requests 400] [--workers 1]

Two workloads, each reported as p50 / p95 latency and requests/s:
- new queries: every request is a query the service has not seen (its vector must be encoded);
- browsing: the same queries again with a page, a facet filter or a sort (what a person does
  next on a result page; the query vector is remembered).
The catalog file is kept in benchmarks/out/ and reused by later runs of the same N (loading 500k
rows takes several minutes); the service's own start-up line (model + vectors load) is printed.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

from common import OUT, Timer, load_catalog, load_conditions, percentiles

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic import make_queries

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.encoder import load_encoder
from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group


def catalog_file(n: int) -> str:
    path = OUT / f"service-catalog-{n}.sqlite3"
    url = f"sqlite:///{path}"
    if path.exists():
        with CatalogStore(url) as store:
            if store.count_datasets() == n:
                print(f"reusing {path} ({n} rows)")
                return url
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{path}{suffix}"):
                os.remove(f"{path}{suffix}")
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"loading {n} synthetic datasets into {path}; {load_conditions()}")
    with CatalogStore(url) as store:
        load_catalog(store, n, load_encoder())
    return url


def run_clients(port: int, paths: list[str], clients: int) -> tuple[list[float], float]:
    """Send `paths` from `clients` threads (one keep-alive connection each); latencies in ms, wall s."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(paths))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            t0 = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status == 200, (path, response.status, body[:300])
            with lock:
                latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    with Timer() as t:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return latencies, t.seconds


def search_path(query: str, **params) -> str:
    return "/api/search?" + urlencode({"q": query, **params})


LOG_PATH = OUT / "service-bench.log"


def start_service(url: str, workers: str = "1") -> tuple[subprocess.Popen, int, float]:
    """`dataset-catalog serve` over `url` on a free port, its output in LOG_PATH, once it answers
    /healthz: (process, port, seconds from start to healthy). Stop it with stop_process_group."""
    port = free_port()
    env = {**os.environ, "DATASET_CATALOG_DATABASE_URL": url}
    with open(LOG_PATH, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dataset_catalog.cli",
                "serve",
                "--port",
                str(port),
                "--no-access-log",
                "--workers",
                workers,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with Timer() as start:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, LOG_PATH.read_text()
                time.sleep(0.5)
    except BaseException:
        stop_process_group(process, grace_seconds=10)
        raise
    return process, port, start.seconds


def startup_lines() -> list[str]:
    """The service's start-up lines (model + vectors load, or errors) from LOG_PATH."""
    return [line for line in LOG_PATH.read_text().splitlines() if "ready" in line or "Error" in line][-3:]


def main() -> None:
    args = sys.argv[1:]
    n = int(next((a for a in args if a.isdigit()), 500_000))
    clients = int(args[args.index("--clients") + 1]) if "--clients" in args else 4
    n_requests = int(args[args.index("--requests") + 1]) if "--requests" in args else 400
    workers = args[args.index("--workers") + 1] if "--workers" in args else "1"
    url = catalog_file(n)
    process, port, started = start_service(url, workers)
    try:
        print(f"service up in {started:.1f} s (process start to healthy)")
        queries = list(dict.fromkeys(make_queries(4 * n_requests, seed=7)))
        warm, fresh = queries[:40], queries[40 : 40 + n_requests]
        run_clients(port, [search_path(q) for q in warm], clients)  # warm-up: caches, pages, threads
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", search_path(warm[0]))
        sample = json.loads(conn.getresponse().read())
        print(
            f"result set of one query: {sample['total']} datasets, {len(sample['hits'])} hits, facets "
            f"{ {k: len(v) for k, v in sample['facets'].items()} }, modes {sample['modes']}"
        )
        print(
            f"measuring {len(fresh)} new queries, {clients} concurrent clients, {workers} server process(es); {load_conditions()}"
        )
        latencies, seconds = run_clients(port, [search_path(q) for q in fresh], clients)
        print(
            f"NEW QUERIES  /api/search: {percentiles(latencies)}; {len(latencies) / seconds:.1f} req/s  [target p50 <= 30, p95 <= 100]"
        )
        browsing = []
        for i, q in enumerate(fresh):
            browsing.append(
                search_path(
                    q,
                    **[{"offset": 10}, {"source": "kaggle"}, {"license_family": "cc-by"}, {"sort": "downloads"}][i % 4],
                )
            )
        latencies, seconds = run_clients(port, browsing, clients)
        print(
            f"BROWSING     /api/search (page 2, facet, sort of a seen query): {percentiles(latencies)}; "
            f"{len(latencies) / seconds:.1f} req/s; {load_conditions()}"
        )
    finally:
        stop_process_group(process, grace_seconds=10)
    print("service start-up:", *startup_lines(), sep="\n  ")


if __name__ == "__main__":
    main()
