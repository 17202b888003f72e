"""Resident memory of `dataset-catalog serve` under concurrent clients, and whether it is given back.

    PYTHONPATH=. python benchmarks/bench_service_memory.py [N=20000] [--clients 16] [--requests 1600]
                                                            [--seconds 240] [--rounds 2] [--env NAME=VALUE ...]

Serves a synthetic SQLite catalog of N datasets (kept in benchmarks/out/, as bench_search_service.py
does), then sends rounds of `--requests` distinct searches (every one a new query vector, a mix
of API searches, search pages with a filter and dataset pages) from `--clients` threads over
loopback, each round bounded by `--seconds`. Prints VmRSS and VmHWM of the server process after
start-up, after each round and after 15 s idle. `--env` sets the server's environment (e.g.
MALLOC_ARENA_MAX=2) to compare settings.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from urllib.parse import quote, urlencode

from bench_search_service import catalog_file
from common import OUT, load_conditions
from synthetic import make_queries, make_row

from dataset_catalog_tests.defs.dagster_processes import free_port, stop_process_group

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def memory_mb(pid: int) -> str:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                fields[name] = value.split()[0]
    return f"RSS {int(fields['VmRSS']) / 1024:.0f} MB (peak {int(fields['VmHWM']) / 1024:.0f} MB), {fields['Threads']} threads"


def paths_for(queries: list[str], n: int) -> list[str]:
    paths = []
    for i, query in enumerate(queries):
        kind = i % 4
        if kind == 3:
            paths.append("/?" + urlencode({"q": query, "license_family": "cc-by"}))
        elif kind == 2:
            row = make_row((i * 7919) % n)
            paths.append(f"/datasets/{row['source']}/{quote(row['external_id'])}")
        else:
            paths.append("/api/search?" + urlencode({"q": query, "limit": 20}))
    return paths


def run_round(port: int, paths: list[str], clients: int, seconds: float) -> tuple[int, dict[int, int]]:
    statuses: dict[int, int] = {}
    done = 0
    lock = threading.Lock()
    queue = list(reversed(paths))
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal done
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                done += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done, statuses


def main() -> None:
    args = sys.argv[1:]
    n = int(next((a for a in args if a.isdigit()), 20_000))
    option = lambda name, default: args[args.index(name) + 1] if name in args else default  # noqa: E731
    clients, n_requests = int(option("--clients", 16)), int(option("--requests", 1600))
    seconds, rounds = float(option("--seconds", 240)), int(option("--rounds", 2))
    extra_env = dict(a.split("=", 1) for i, a in enumerate(args) if i and args[i - 1] == "--env")
    url = catalog_file(n)
    port = free_port()
    log_path = OUT / "service-memory.log"
    env = {**os.environ, "DATASET_CATALOG_DATABASE_URL": url, **extra_env}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dataset_catalog.cli", "serve", "--port", str(port), "--no-access-log"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.5)
        print(f"{n} datasets, {clients} clients, env {extra_env or 'default'}; {load_conditions()}")
        print(f"after start-up:     {memory_mb(process.pid)}")
        queries = list(dict.fromkeys(make_queries(4 * n_requests * rounds, seed=11)))
        for r in range(rounds):
            chunk = queries[r * n_requests : (r + 1) * n_requests]
            t0 = time.perf_counter()
            done, statuses = run_round(port, paths_for(chunk, n), clients, seconds)
            took = time.perf_counter() - t0
            print(f"after round {r + 1}:      {memory_mb(process.pid)}; {done} requests in {took:.0f} s {statuses}")
        time.sleep(15)
        print(f"after 15 s idle:    {memory_mb(process.pid)}")
    finally:
        stop_process_group(process, grace_seconds=10)


if __name__ == "__main__":
    main()
