"""Cold `dataset-catalog search`: wall time of a fresh process per query, on the embedded default
(SQLite) at N synthetic datasets, for the code in this tree and for an earlier commit.

    PYTHONPATH=. python benchmarks/bench_cli_cold.py [N ...] [--queries 20] [--before COMMIT]

Catalog files are shared with bench_search_service.py (benchmarks/out/service-catalog-N.sqlite3).
"After" runs once untimed first: that search loads the torch model and writes the ONNX export
and the memory-mapped vector file that later ones use (its time is printed too). "Before" runs
the same CLI from a git worktree of COMMIT (default b771811, the CLI before the search service).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from bench_search_service import catalog_file
from common import OUT, ROOT, load_conditions, percentiles
from synthetic import make_queries


def timed_search(code_root: str, url: str, home: str, query: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": code_root,
        "DATASET_CATALOG_DATABASE_URL": url,
        "DATASET_CATALOG_HOME": home,
        "HF_HUB_OFFLINE": "1",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dataset_catalog.cli", "search", query, "--limit", "10"],
        env=env,
        capture_output=True,
        text=True,
        cwd=code_root,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    # An answer is hits, or (since search counts good matches only) the line saying there are none.
    answered = " 1. " in done.stdout or "No good matches" in done.stdout
    assert done.returncode == 0 and answered, done.stderr[-2000:]
    return elapsed


def main() -> None:
    args = sys.argv[1:]
    sizes = [int(a) for a in args if a.isdigit()] or [100_000, 500_000]
    n_queries = int(args[args.index("--queries") + 1]) if "--queries" in args else 20
    before = args[args.index("--before") + 1] if "--before" in args else "b771811"
    queries = list(dict.fromkeys(make_queries(10 * n_queries, seed=23)))[:n_queries]
    worktree = OUT / f"worktree-{before}"
    if not worktree.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), before], cwd=ROOT, check=True, capture_output=True
        )
    for n in sizes:
        url = catalog_file(n)
        with tempfile.TemporaryDirectory(dir=OUT) as home:
            first = timed_search(str(ROOT), url, home, "warm-up query about datasets")
            after = [timed_search(str(ROOT), url, home, q) * 1000 for q in queries]
        with tempfile.TemporaryDirectory(dir=OUT) as home:
            earlier = [timed_search(str(worktree), url, home, q) * 1000 for q in queries]
        print(f"{n} datasets, {n_queries} queries, a fresh process each; {load_conditions()}")
        print(f"  before ({before}): {percentiles(earlier)}")
        print(f"  after:  {percentiles(after)}  [goal p50 <= 2000 ms at 100k]")
        print(f"  the first search after install (loads torch, writes the ONNX export and vector file): {first:.1f} s")


if __name__ == "__main__":
    main()
