"""Issue 25's figures at scale: build, size on disk, search latency and service throughput of the
embedded default (SQLite) at N synthetic datasets (2,000,000 by default).

    PYTHONPATH=.:benchmarks python benchmarks/bench_scale.py [N=2000000] [--build-only] [--measure-only]

The catalog is kept as benchmarks/out/scale-catalog-N.sqlite3 (vector files and HNSW index in its
`.vectors/` folder, the build's figures in scale-catalog-N.build.json) and reused by later runs of
the same N: --build-only stops after building (and sizing) it, --measure-only measures one built
before without building anything. Printed, each figure as it is measured:
1. build: seconds of each phase: rows, keyword index, vectors written to SQLite (common.load_catalog),
   then, each in a fresh process whose peak RSS (VmHWM) is its own, the vector matrix read from the
   rows and saved as .npy, and the HNSW index built and saved (time, peak RSS, usearch's own count);
   then a fresh process loading the saved index (as a restarted service or a CLI search does);
2. size on disk: the catalog file (+ -wal, -shm) and each file of its .vectors/ folder, GiB;
3. in-process search: dataset_catalog.search.finder.find end to end (query encoding included) with
   the serving encoder, the store prepared by service/app.py open_service, p50/p95 of 200 unseen queries;
4. cold CLI: a fresh `dataset-catalog search` process per query (bench_cli_cold.timed_search), p50 of 10;
5. service: `dataset-catalog serve` (bench_search_service.start_service), /api/search p50/p95 and
   req/s of 200 unseen queries from 1 client, then 200 others from 4 clients; the server's RSS.
Every query is used once (a query seen before would find its vector and parse remembered).
At the end a summary line per figure and, when N < 2,000,000, its linear extrapolation to 2M
(rows-proportional: build times, disk, memory above a fresh process's; latencies as measured).
The page cache is warm throughout (the files were just written or read): loads are not cold-disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_cli_cold import timed_search
from bench_search_service import run_clients, search_path, start_service, startup_lines
from common import OUT, ROOT, Timer, load_catalog, load_conditions, percentiles

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic import make_queries

from dataset_catalog.catalog import CatalogStore, vector_file, vector_index, vector_matrix
from dataset_catalog.embeddings.encoder import configured_model_name
from dataset_catalog_tests.defs.dagster_processes import stop_process_group

TARGET = 2_000_000
GIB = 2**30
IN_PROCESS_QUERIES, CLI_QUERIES, SERVICE_QUERIES = 200, 10, 200


def catalog_path(n: int) -> Path:
    return OUT / f"scale-catalog-{n}.sqlite3"


def record_path(n: int) -> Path:
    return OUT / f"scale-catalog-{n}.build.json"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def rss_mb(field: str = "VmRSS", pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0]) / 1024
    raise KeyError(field)


def child(kind: str, url: str) -> None:
    """One phase in this (fresh) process, so its peak RSS is the phase's own: prints a RESULT line.
    vector-file: read the matrix from the rows and save it as .npy (what the first search does);
    index-build / index-load: vector_matrix.prepare_vectors, as a service's start-up does (builds
    and saves the HNSW index if no file holds it, else memory-maps the saved one)."""
    model = configured_model_name()
    result: dict = {}
    with CatalogStore(url) as store:
        result["base_mb"] = rss_mb()
        if kind == "vector-file":
            with Timer() as t:
                vectors = vector_matrix.load_vector_matrix(store, model, vector_matrix.current_generation(store))
            result.update(seconds=t.seconds, vectors=int(vectors.ids.size))
        else:
            result.update(vector_matrix.prepare_vectors(store, model))
            ann = store.vector_matrices[model].ann
            result["usearch_mb"] = ann.index.memory_usage / 2**20 if ann is not None else None
        result["rss_mb"] = rss_mb()
    # VmHWM, not getrusage().ru_maxrss: that one keeps the forking parent's high-water mark across exec.
    result["peak_mb"] = rss_mb("VmHWM")
    print("RESULT " + json.dumps(result), flush=True)


def run_child(kind: str, url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")])}
    with Timer() as t:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", kind, url],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    result = json.loads(next(line for line in reversed(done.stdout.splitlines()) if line.startswith("RESULT "))[7:])
    result["process_seconds"] = t.seconds
    return result


def stored_files(url: str) -> tuple[Path | None, dict[str, Path] | None]:
    """The HNSW index file and the .npy matrix files of the stored vectors' generation."""
    model = configured_model_name()
    with CatalogStore(url) as store:
        generation = vector_matrix.current_generation(store)
        return vector_index.index_path(store, model, generation), vector_file.matrix_paths(store, model, generation)


def catalog_rows(path: Path) -> int | None:
    if not path.exists():
        return None
    with CatalogStore(sqlite_url(path)) as store:
        return store.count_datasets()


def remove_catalog(path: Path, n: int) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{path}.vectors", ignore_errors=True)
    record_path(n).unlink(missing_ok=True)


def read_record(n: int) -> dict:
    path = record_path(n)
    return json.loads(path.read_text()) if path.exists() else {}


def write_record(n: int, record: dict) -> None:
    record_path(n).write_text(json.dumps(record, indent=2))


def print_load(record: dict) -> None:
    print(
        f"  (recorded {record['built_at']}; {record['conditions']})\n"
        f"  inserted {record['n']} rows in {record['rows']:.1f} s\n"
        f"  keyword index built (and statistics refreshed) in {record['keyword_index']:.1f} s\n"
        f"  wrote {record['n']} vectors in {record['vectors']:.1f} s"
    )


def print_vector_file(result: dict) -> None:
    print(
        f"  vector matrix read from the rows and saved as .npy (fresh process): {result['seconds']:.1f} s, "
        f"peak RSS {result['peak_mb']:.0f} MB (a fresh process {result['base_mb']:.0f} MB)"
    )


def print_hnsw(result: dict) -> None:
    if result["index"] == "exact":
        print(f"  no HNSW index: {result['vectors']} vectors < {vector_index.ANN_MIN_VECTORS} (exact scan)")
        return
    print(
        f"  HNSW index built and saved (fresh process): {result['index_seconds']:.1f} s "
        f"(matrix mapped in {result['vectors_seconds']:.2f} s; index: {result['index']}), "
        f"peak RSS {result['peak_mb']:.0f} MB (a fresh process {result['base_mb']:.0f} MB), "
        f"usearch reports {result['usearch_mb']:.0f} MB"
    )


def build(n: int) -> dict:
    """Build what is missing of the N-row catalog; the build's figures (measured now or recorded)."""
    path, url = catalog_path(n), sqlite_url(catalog_path(n))
    OUT.mkdir(parents=True, exist_ok=True)
    record = read_record(n)
    if "vectors" in record and catalog_rows(path) == n:
        print(f"reusing {path} ({n} rows)")
        print_load(record)
    else:
        remove_catalog(path, n)
        from dataset_catalog.embeddings.encoder import load_encoder

        print(f"loading {n} synthetic datasets into {path}; {load_conditions()}")
        timings: dict = {}
        with CatalogStore(url) as store:
            load_catalog(store, n, load_encoder(), timings=timings)  # its matrix: not kept
        record = {
            "n": n,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "conditions": load_conditions(),
            **timings,
        }
        write_record(n, record)
    index_file, matrix_files = stored_files(url)
    matrix_saved = matrix_files is not None and all(p.exists() for p in matrix_files.values())
    if "vector_file" in record and (matrix_saved or n < vector_index.ANN_MIN_VECTORS):
        print_vector_file(record["vector_file"])
    else:
        for saved_file in matrix_files.values() if matrix_files else ():
            saved_file.unlink(missing_ok=True)  # files without their figures: read the rows again, measured
        print(f"reading the vector matrix from the rows in a fresh process; {load_conditions()}")
        record["vector_file"] = run_child("vector-file", url)
        write_record(n, record)
        print_vector_file(record["vector_file"])
    saved = index_file is not None and index_file.exists()
    if "hnsw" in record and (saved or record["hnsw"]["index"] == "exact"):
        print_hnsw(record["hnsw"])
    else:
        for old in Path(f"{path}.vectors").glob(f"*{vector_index.FILE_SUFFIX}"):
            old.unlink()  # a file without its figures: build it again, measured
        print(f"building the HNSW index in a fresh process; {load_conditions()}")
        record["hnsw"] = run_child("index-build", url)
        write_record(n, record)
        print_hnsw(record["hnsw"])
    return record


def disk_sizes(n: int) -> dict[str, float]:
    """Bytes of the catalog file (+ -wal, -shm) and of each file of its .vectors/ folder, printed in GiB."""
    path = catalog_path(n)
    catalog = {s or "file": os.path.getsize(f"{path}{s}") for s in ("", "-wal", "-shm") if os.path.exists(f"{path}{s}")}
    folder = Path(f"{path}.vectors")
    vectors = {p.name: p.stat().st_size for p in sorted(folder.iterdir())} if folder.is_dir() else {}
    print(f"SIZE ON DISK at {n} rows:")
    print(
        f"  catalog {sum(catalog.values()) / GIB:.3f} GiB ("
        + ", ".join(f"{k} {v / GIB:.3f}" for k, v in catalog.items())
        + ")"
    )
    print(f"  {folder.name}/ {sum(vectors.values()) / GIB:.3f} GiB:")
    for name, size in vectors.items():
        print(f"    {name}: {size / GIB:.3f} GiB")
    return {"catalog": sum(catalog.values()), "vectors_folder": sum(vectors.values())}


def in_process_search(url: str, warm: list[str], queries: list[str]) -> list[float]:
    from dataset_catalog.catalog.search_queries import SearchFilters
    from dataset_catalog.search.finder import SearchRequest, find
    from dataset_catalog.service.app import open_service

    store = CatalogStore(url)
    try:
        service = open_service(store)
        print(f"  open_service: {service.startup}")
        for q in warm:  # warm-up: caches, index and matrix pages
            find(store, SearchRequest(q, SearchFilters(), limit=10), encoder=service.encoder)
        print(f"  measuring {len(queries)} unseen queries; {load_conditions()}")
        latencies = []
        for q in queries:
            t0 = time.perf_counter()
            find(store, SearchRequest(q, SearchFilters(), limit=10), encoder=service.encoder)
            latencies.append((time.perf_counter() - t0) * 1000)
    finally:
        store.close()
    return latencies


def measure(n: int, record: dict) -> dict:
    url = sqlite_url(catalog_path(n))
    figures: dict = {}
    queries = list(dict.fromkeys(make_queries(6000, seed=25)))
    parts, start = [], 0  # disjoint: warm-up, in-process, CLI (+ its first), service warm-up, 1 client, 4
    for size in (20, IN_PROCESS_QUERIES, 1 + CLI_QUERIES, 40, SERVICE_QUERIES, SERVICE_QUERIES):
        parts.append(queries[start : start + size])
        start += size
    assert start <= len(queries), "too few distinct synthetic queries"
    warm, in_process, cli, service_warm, one_client, four_clients = parts

    print(f"loading the saved index in a fresh process; {load_conditions()}")
    loaded = figures["index_load"] = run_child("index-load", url)
    print(
        f"  saved index loaded ({loaded['index']}) in {loaded['index_seconds']:.3f} s, matrix mapped in "
        f"{loaded['vectors_seconds']:.3f} s; RSS then {loaded['rss_mb']:.0f} MB; the whole process "
        f"(start, imports, open, load) {loaded['process_seconds']:.1f} s"
    )

    print(f"IN-PROCESS SEARCH (find, first page of 10, serving encoder); {load_conditions()}")
    figures["in_process"] = in_process_search(url, warm, in_process)
    print(f"  IN-PROCESS find: {percentiles(figures['in_process'])}  [target p50 <= 50, p95 <= 150]")

    print(f"COLD CLI (a fresh `dataset-catalog search` process per query); {load_conditions()}")
    with tempfile.TemporaryDirectory(dir=OUT) as home:
        first = timed_search(str(ROOT), url, home, cli[0])
        print(f"  first search with an empty DATASET_CATALOG_HOME (writes the ONNX export): {first:.1f} s")
        figures["cli"] = [timed_search(str(ROOT), url, home, q) * 1000 for q in cli[1:]]
    print(f"  COLD CLI search: {percentiles(figures['cli'])}  [goal p50 <= 2000 ms]")

    print(f"SERVICE (`dataset-catalog serve`, 1 worker process); {load_conditions()}")
    process, port, started = start_service(url)
    try:
        print(f"  service up in {started:.1f} s (process start to healthy)")
        run_clients(port, [search_path(q) for q in service_warm], 4)  # warm-up: caches, pages, threads
        for clients, batch in ((1, one_client), (4, four_clients)):
            print(f"  measuring {len(batch)} unseen queries, {clients} client(s); {load_conditions()}")
            latencies, seconds = run_clients(port, [search_path(q) for q in batch], clients)
            figures[f"service_{clients}"] = (latencies, len(latencies) / seconds)
            print(
                f"  SERVICE /api/search, {clients} client(s): {percentiles(latencies)}; "
                f"{len(latencies) / seconds:.1f} req/s  [target p50 <= 30, p95 <= 100]"
            )
        figures["service_rss"] = (rss_mb("VmRSS", process.pid), rss_mb("VmHWM", process.pid))
        # Most of it is pages of the memory-mapped catalog, vectors and index: shared, reclaimable.
        figures["service_anon"] = rss_mb("RssAnon", process.pid)
        print(
            f"  server RSS {figures['service_rss'][0]:.0f} MB (peak {figures['service_rss'][1]:.0f} MB), "
            f"of which anonymous {figures['service_anon']:.0f} MB, file pages {rss_mb('RssFile', process.pid):.0f} MB"
        )
    finally:
        stop_process_group(process, grace_seconds=10)
    print("  service start-up:", *startup_lines(), sep="\n    ")
    return figures


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(n: int, record: dict, disk: dict[str, float], figures: dict | None) -> None:
    factor = TARGET / n
    scaled = n < TARGET
    print(
        f"\nSUMMARY at {n} rows"
        + (
            f"; -> linear extrapolation to {TARGET:,} rows (x{factor:.2f}): build times, disk and memory above a "
            "fresh process's scale with rows (HNSW insertion grows ~n log n: its time is a lower bound); "
            "latencies and load times are printed as measured, not extrapolated"
            if scaled
            else ""
        )
    )

    def line(label: str, value: float, unit: str, base: float | None = 0.0) -> None:
        """base None: not extrapolated; else base + (value - base) x factor."""
        text = f"  {label:<48} {value:10.2f} {unit}"
        if scaled:
            text += "   (as measured)" if base is None else f"   -> {base + (value - base) * factor:10.2f} {unit}"
        print(text)

    line("build: insert rows", record["rows"], "s")
    line("build: keyword index (+ statistics)", record["keyword_index"], "s")
    line("build: vectors written to SQLite", record["vectors"], "s")
    vector_file_process = record["vector_file"]
    line("build: vector matrix read from rows, saved .npy", vector_file_process["seconds"], "s")
    line(
        "build: that process's peak RSS",
        vector_file_process["peak_mb"] / 1024,
        "GiB",
        vector_file_process["base_mb"] / 1024,
    )
    hnsw = record["hnsw"]
    if hnsw["index"] != "exact":
        line("build: HNSW index build + save", hnsw["index_seconds"], "s")
        line("build: HNSW build process peak RSS", hnsw["peak_mb"] / 1024, "GiB", hnsw["base_mb"] / 1024)
        line("build: HNSW index memory (usearch)", hnsw["usearch_mb"] / 1024, "GiB")
    total = record["rows"] + record["keyword_index"] + record["vectors"] + record["vector_file"]["seconds"]
    line("build: total", total + (hnsw["index_seconds"] if hnsw["index"] != "exact" else 0.0), "s")
    line("disk: catalog file (+ -wal, -shm)", disk["catalog"] / GIB, "GiB")
    line("disk: .vectors/ folder", disk["vectors_folder"] / GIB, "GiB")
    line("disk: total", (disk["catalog"] + disk["vectors_folder"]) / GIB, "GiB")
    if figures is None:
        return
    loaded = figures["index_load"]
    line("saved index load, fresh process (index)", loaded["index_seconds"], "s", None)
    line("saved index load, fresh process (whole process)", loaded["process_seconds"], "s", None)
    for label, samples in (("in-process find", figures["in_process"]), ("cold CLI search", figures["cli"])):
        line(f"{label} p50", p(samples, 0.5), "ms", None)
        line(f"{label} p95", p(samples, 0.95), "ms", None)
    for clients in (1, 4):
        latencies, rate = figures[f"service_{clients}"]
        line(f"service, {clients} client(s): p50", p(latencies, 0.5), "ms", None)
        line(f"service, {clients} client(s): p95", p(latencies, 0.95), "ms", None)
        line(f"service, {clients} client(s): throughput", rate, "req/s", None)
    line("service RSS after the runs (peak)", figures["service_rss"][1] / 1024, "GiB", None)
    if "service_anon" in figures:
        line("service anonymous memory (the rest: mapped files)", figures["service_anon"] / 1024, "GiB", None)


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--child"]:
        child(args[1], args[2])
        return
    sys.stdout.reconfigure(line_buffering=True)  # each figure as it is measured, also into a pipe
    n = int(next((a for a in args if a.isdigit()), TARGET))
    build_only, measure_only = "--build-only" in args, "--measure-only" in args
    print(f"bench_scale: {n} rows on SQLite; {load_conditions()}")
    if measure_only:
        record = read_record(n)
        index_file = stored_files(sqlite_url(catalog_path(n)))[0] if "hnsw" in record else None
        built = "hnsw" in record and (record["hnsw"]["index"] == "exact" or (index_file and index_file.exists()))
        if not built or catalog_rows(catalog_path(n)) != n:
            sys.exit(f"no complete build of {catalog_path(n)}: run without --measure-only (or with --build-only) first")
        print("BUILD:")
        print_load(record)
        print_vector_file(record["vector_file"])
        print_hnsw(record["hnsw"])
    else:
        print("BUILD:")
        record = build(n)
    disk = disk_sizes(n)
    figures = None if build_only else measure(n, record)
    summary(n, record, disk, figures)


if __name__ == "__main__":
    main()
