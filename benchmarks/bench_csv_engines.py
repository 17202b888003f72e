"""Which engine reads Meta Kaggle's two big files fastest, within the memory target?

    PYTHONPATH=. python benchmarks/bench_csv_engines.py benchmarks/out/scale-1/cache/meta-kaggle

The seed's heavy reads: Users.csv (24M rows) keeping the users that own a dataset, and
DatasetVersions.csv (2M rows, multi-line quoted descriptions) keeping each dataset's current
version. Each engine does both in its own child process; wall time and peak RSS are printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def keys(folder: str) -> tuple[list[str], list[str]]:
    import duckdb

    con = duckdb.connect()
    owners, versions = con.execute(
        f"SELECT list(DISTINCT OwnerUserId) FILTER (OwnerUserId IS NOT NULL), "
        f"list(DISTINCT CurrentDatasetVersionId) FILTER (CurrentDatasetVersionId IS NOT NULL) "
        f"FROM read_csv('{folder}/Datasets.csv', all_varchar=true)"
    ).fetchone()
    return owners, versions


def run_duckdb(folder, owners, versions):
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute("SET threads=2; SET memory_limit='1GB'; SET enable_progress_bar=false")
    con.register("o", pa.table({"id": owners}))
    con.register("v", pa.table({"id": versions}))
    opt = "header=true, all_varchar=true, store_rejects=true"
    users = con.execute(
        f"SELECT count(*) FROM read_csv('{folder}/Users.csv', {opt}) u SEMI JOIN o ON u.Id = o.id"
    ).fetchone()[0]
    kept = con.execute(
        f"SELECT count(*), sum(length(Description)) FROM read_csv('{folder}/DatasetVersions.csv', {opt}) x "
        f"SEMI JOIN v ON x.Id = v.id"
    ).fetchone()[0]
    return users, kept


def run_polars(folder, owners, versions):
    import polars as pl

    def scan(name, cols):
        return pl.scan_csv(f"{folder}/{name}.csv", infer_schema=False, encoding="utf8-lossy").select(cols)

    users = scan("Users", ["Id", "UserName"]).filter(pl.col("Id").is_in(owners)).collect(engine="streaming")
    kept = (
        scan("DatasetVersions", ["Id", "Slug", "Title", "Description"])
        .filter(pl.col("Id").is_in(versions))
        .collect(engine="streaming")
    )
    return users.height, kept.height


def run_pyarrow(folder, owners, versions):
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    def stream(name, cols, ids):
        reader = csv.open_csv(
            f"{folder}/{name}.csv",
            read_options=csv.ReadOptions(block_size=64 << 20),
            parse_options=csv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda row: "skip"),
            # binary, not string: a string column fails the whole read on one invalid UTF-8 byte
            convert_options=csv.ConvertOptions(include_columns=cols, column_types={c: pa.binary() for c in cols}),
        )
        wanted, n = pa.array([i.encode() for i in ids], pa.binary()), 0
        for batch in reader:
            n += pc.sum(pc.is_in(batch.column(0), value_set=wanted)).as_py() or 0
        return n

    return stream("Users", ["Id", "UserName"], owners), stream(
        "DatasetVersions", ["Id", "Slug", "Title", "Description"], versions
    )


def run_pandas(folder, owners, versions):
    import pandas as pd

    def chunks(name, cols, ids):
        wanted, n = set(ids), 0
        for chunk in pd.read_csv(
            f"{folder}/{name}.csv", usecols=cols, dtype=str, chunksize=500_000, encoding_errors="replace"
        ):
            n += int(chunk["Id"].isin(wanted).sum())
        return n

    return chunks("Users", ["Id", "UserName"], owners), chunks(
        "DatasetVersions", ["Id", "Slug", "Title", "Description"], versions
    )


ENGINES = {"duckdb": run_duckdb, "polars": run_polars, "pyarrow": run_pyarrow, "pandas-chunked": run_pandas}


def main() -> None:
    if sys.argv[1] == "--child":
        engine, folder = sys.argv[2], sys.argv[3]
        owners, versions = keys(folder)
        started = time.perf_counter()
        result = ENGINES[engine](folder, owners, versions)
        print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "kept": result}))
        return
    folder = sys.argv[1]
    engines = sys.argv[2].split(",") if len(sys.argv) > 2 else list(ENGINES)
    print(f"CSV engines on {folder}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    for engine in engines:
        proc = subprocess.Popen([sys.executable, __file__, "--child", engine, folder], stdout=subprocess.PIPE)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        result = json.loads(out.decode().splitlines()[-1]) if status == 0 else {"error": status}
        print(
            f"  {engine:15} {result.get('seconds', '-')}s  peak RSS {usage.ru_maxrss / 1024:.0f} MB  "
            f"rows kept {result.get('kept')}  (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
