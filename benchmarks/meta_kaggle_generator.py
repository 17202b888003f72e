"""Synthetic Meta Kaggle CSVs with the real columns and quirks, at a scale factor.

Scale 1.0 ≈ 500k datasets, 2M dataset versions (multi-line quoted descriptions, ~350 chars on
average), 24M users, 20k organizations, 1k tags, 1.5M dataset-tags. DuckDB writes every file
with one vectorized COPY, so a full-scale set takes about a minute on two cores.

Quirks, at realistic low rates: blank and float-looking ids (`123.0`), empty
CurrentDatasetVersionId, current version rows missing, org-owned datasets, owners not in
Users.csv, US dates with and without time, unparseable dates, duplicate dataset ids, renamed
slugs on older versions, and a few rows with invalid UTF-8 bytes appended raw.

    python benchmarks/meta_kaggle_generator.py --scale 1.0 --out benchmarks/out/meta-kaggle
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

FILES = ("Datasets", "DatasetVersions", "Users", "Organizations", "Tags", "DatasetTags")

# Text the descriptions are cut from: commas, quotes and newlines make the CSV quoting real.
_BASE_TEXT = (
    'This dataset contains "curated" records, collected from public sources.\n'
    "Columns: id, name, value; see the data card for details.\n\n"
    "## Content\nEach row is one observation, with a timestamp, a category and a numeric target. "
    "Licensing follows the original providers; cite them if you use it.\n"
    "Acknowledgements: thanks to the community, and to everyone who reported issues.\n"
    "Inspiration: can you predict the target? Which features matter most, and why?\n"
) * 4


@dataclass(frozen=True)
class Sizes:
    datasets: int
    versions_per_dataset: int
    users: int
    organizations: int
    tags: int
    dataset_tags: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(
            datasets=max(50, int(500_000 * scale)),
            versions_per_dataset=4,
            users=max(100, int(24_000_000 * scale)),
            organizations=max(10, int(20_000 * scale)),
            tags=max(10, int(1_000 * min(scale, 1.0))),
            dataset_tags=max(50, int(1_500_000 * scale)),
        )


def _us_time(expr: str) -> str:
    return f"strftime({expr}, '%m/%d/%Y %H:%M:%S')"


def _us_date(expr: str) -> str:
    return f"strftime({expr}, '%m/%d/%Y')"


def generate(out_dir: Path, scale: float = 1.0, threads: int = 2) -> dict[str, Path]:
    """Write the six CSVs into `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    s = Sizes.at(scale)
    con = duckdb.connect()
    con.execute(f"SET threads={threads}")
    con.execute("SET preserve_insertion_order=false")
    paths = {name: out_dir / f"{name}.csv" for name in FILES}
    nd, nv = s.datasets, s.datasets * s.versions_per_dataset
    base_len = len(_BASE_TEXT)
    con.execute("CREATE TEMP TABLE base AS SELECT ?::VARCHAR AS t", [_BASE_TEXT])
    epoch = "TIMESTAMP '2016-01-01'"

    def copy(name: str, select: str) -> None:
        started = time.perf_counter()
        con.execute(f"COPY ({select}) TO '{paths[name]}' (HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"')")
        print(f"  {name}.csv: {time.perf_counter() - started:.1f}s", flush=True)

    # Users: 24M rows at scale 1; ids 1..users.
    copy(
        "Users",
        f"""SELECT i AS Id, 'user' || i AS UserName, 'User ' || i AS DisplayName,
                   {_us_date(f"{epoch} + to_days((i % 3000)::INT)")} AS RegisterDate,
                   (i % 5)::INT AS PerformanceTier,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE 'Country' || (i % 200) END AS Country,
                   CASE WHEN i % 7 = 0 THEN 'True' ELSE 'False' END AS LocationSharingOptOut
            FROM range(1, {s.users + 1}) r(i)""",
    )
    copy(
        "Organizations",
        f"""SELECT i AS Id, 'Organization ' || i AS Name, 'org-' || i AS Slug,
                   {_us_time(f"{epoch} + to_seconds(i * 3600)")} AS CreationDate,
                   'An organization, with a "quoted" description.' AS Description
            FROM range(1, {s.organizations + 1}) r(i)""",
    )
    copy(
        "Tags",
        f"""SELECT i AS Id, CASE WHEN i % 10 = 0 THEN NULL ELSE i - (i % 10) END AS ParentTagId,
                   'tag ' || i AS Name, 'tag-' || i AS Slug, 'subject > tag-' || i AS FullPath,
                   'Tag number ' || i AS Description, i * 3 AS DatasetCount, i AS CompetitionCount,
                   i * 5 AS KernelCount
            FROM range(1, {s.tags + 1}) r(i)""",
    )
    # Datasets: ~3% org-owned, ~1% without current version, 0.5% owner ids float-looking,
    # 0.2% owners missing from Users, a few duplicate ids and blank ids.
    copy(
        "Datasets",
        f"""WITH d AS (
              SELECT i, hash(i) AS h FROM range(1, {nd + 1}) r(i)
              UNION ALL SELECT i, hash(i) FROM range(1, {nd + 1}, 997) r(i)   -- duplicate ids
            )
            SELECT CASE WHEN i % 50021 = 0 THEN NULL ELSE i::VARCHAR END AS Id,
                   (1 + h % {s.users})::VARCHAR AS CreatorUserId,
                   CASE WHEN i % 33 = 0 THEN NULL
                        WHEN i % 500 = 1 THEN (1 + h % {s.users})::VARCHAR || '.0'
                        WHEN i % 499 = 0 THEN ({s.users} + i)::VARCHAR
                        ELSE (1 + h % {s.users})::VARCHAR END AS OwnerUserId,
                   CASE WHEN i % 33 = 0 THEN (1 + h % {s.organizations})::VARCHAR || '.0' END AS OwnerOrganizationId,
                   CASE WHEN i % 101 = 0 THEN NULL
                        WHEN i % 113 = 0 THEN '.0'
                        ELSE (i * {s.versions_per_dataset})::VARCHAR END AS CurrentDatasetVersionId,
                   i * {s.versions_per_dataset} AS CurrentDatasourceVersionId,
                   i + 1000000 AS ForumId, 2 AS Type,
                   CASE WHEN i % 10 = 0 THEN {_us_date(f"{epoch} + to_days((h % 3000)::INT)")}
                        WHEN i % 1009 = 0 THEN '13/45/2020 99:00:00'
                        ELSE {_us_time(f"{epoch} + to_seconds((h % 250000000)::BIGINT)")} END AS CreationDate,
                   {_us_date(f"{epoch} + to_days((3000 + h % 700)::INT)")} AS LastActivityDate,
                   (h % 500000)::BIGINT AS TotalViews, (h % 90000)::BIGINT AS TotalDownloads,
                   (h % 3000)::BIGINT AS TotalVotes, (h % 70)::BIGINT AS TotalKernels,
                   CASE WHEN i % 40 = 0 THEN (1 + i % 3)::VARCHAR END AS Medal,
                   CASE WHEN i % 40 = 0 THEN {_us_date(f"{epoch} + to_days((h % 3000)::INT)")} END AS MedalAwardDate
            FROM d""",
    )
    # DatasetVersions: dataset (v-1)//k + 1; the last of its k versions is the current one, except
    # that 0.3% of current version rows are missing. Older versions carry a previous slug.
    k = s.versions_per_dataset
    copy(
        "DatasetVersions",
        f"""WITH v AS (SELECT i AS vid, (i - 1) // {k} + 1 AS did, hash(i) AS h
                       FROM range(1, {nv + 1}) r(i))
            SELECT vid AS Id, did AS DatasetId, vid AS DatasourceVersionId,
                   (1 + h % {s.users}) AS CreatorUserId,
                   CASE h % 5 WHEN 0 THEN 'CC0: Public Domain' WHEN 1 THEN 'CC BY-SA 4.0'
                        WHEN 2 THEN 'Other (specified in description)' WHEN 3 THEN 'MIT' ELSE 'Unknown' END AS LicenseName,
                   {_us_time(f"{epoch} + to_seconds((h % 250000000)::BIGINT)")} AS CreationDate,
                   (vid - 1) % {k} + 1 AS VersionNumber,
                   'Dataset ' || did || ': measurements, v' || ((vid - 1) % {k} + 1) AS Title,
                   CASE WHEN vid % {k} = 0 THEN 'dataset-' || did ELSE 'old-dataset-' || did END AS Slug,
                   'Subtitle of dataset ' || did AS Subtitle,
                   substr((SELECT t FROM base), 1 + (h % 300)::INT, (100 + (h // 7) % 500)::INT) AS Description,
                   CASE WHEN vid % 3 = 0 THEN 'Updated
files' END AS VersionNotes,
                   (h % 100000000)::BIGINT AS TotalCompressedBytes, (h % 400000000)::BIGINT AS TotalUncompressedBytes
            FROM v
            WHERE NOT (vid % {k} = 0 AND did % 331 = 0)""",
    )
    copy(
        "DatasetTags",
        f"""SELECT i AS Id, (1 + hash(i) % {nd}) AS DatasetId, (1 + hash(i * 31) % {s.tags}) AS TagId
            FROM range(1, {s.dataset_tags + 1}) r(i)""",
    )
    assert base_len > 800
    _append_invalid_utf8(paths, nd)
    con.close()
    return paths


def _append_invalid_utf8(paths: dict[str, Path], nd: int) -> None:
    """A few extra datasets whose text carries invalid UTF-8 bytes, as real exports sometimes do."""
    with paths["Datasets"].open("ab") as f:
        for j in range(1, 4):
            did = nd + j
            f.write(f"{did},1,1,,{did * 4},{did * 4},{did},2,01/02/2020 03:04:05,01/02/2021,10,5,1,0,,\n".encode())
    with paths["DatasetVersions"].open("ab") as f:
        for j in range(1, 4):
            did = nd + j
            f.write(
                f"{did * 4},{did},{did * 4},1,MIT,01/02/2020 03:04:05,1,".encode()
                + b'"Caf\xe9 data \xff"'
                + f",dataset-{did},sub,".encode()
                + b'"broken \xc3\x28 bytes\nsecond line"'
                + b",,1,2\n"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "meta-kaggle")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    paths = generate(args.out, args.scale, args.threads)
    total = sum(p.stat().st_size for p in paths.values())
    print(f"scale {args.scale}: {total / 1e6:.0f} MB in {time.perf_counter() - started:.1f}s -> {args.out}")


if __name__ == "__main__":
    main()
