"""The labelled cross-source duplicates (duplicates_labelled_set.json), served by the four fakes and
ingested by the real source assets.

`load_labelled_set()` reads and checks the set; `hub_items`, `meta_kaggle_files` + `add_kaggle_datasets`,
`openml_datasets` and `zenodo_records` turn its records into each fake's wire format; and
`ingest_labelled_set(catalog_url, workdir)` runs hf_datasets, kaggle_seeded_datasets +
kaggle_enriched_datasets, openml_datasets and zenodo_datasets (the real clients over HTTP) into the
catalog and maps every record key to its catalog row id (by source + external_id).
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")  # no developer login sent to the fake
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("KAGGLE_CONFIG_DIR", tempfile.mkdtemp(prefix="kaggle-config-"))  # before kaggle is imported

import csv
import hashlib
import io
import itertools
import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import dagster as dg

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.defs.common.resources import CatalogResource
from dataset_catalog.defs.huggingface.assets import hf_datasets
from dataset_catalog.defs.huggingface.partitions import HF_PARTITIONS_START
from dataset_catalog.defs.huggingface.resources import HuggingFaceResource
from dataset_catalog.defs.kaggle.assets import kaggle_enriched_datasets, kaggle_seeded_datasets
from dataset_catalog.defs.kaggle.resources import KaggleResource
from dataset_catalog.defs.openml.assets import openml_datasets as openml_asset
from dataset_catalog.defs.openml.resources import OpenMLResource
from dataset_catalog.defs.zenodo.assets import zenodo_datasets
from dataset_catalog.defs.zenodo.partitions import ZENODO_PARTITIONS_START
from dataset_catalog.defs.zenodo.resources import ZenodoResource
from dataset_catalog.kaggle.seed import META_KAGGLE_REF
from dataset_catalog_tests.fakes.hf_hub import FakeHub, make_hub_item
from dataset_catalog_tests.fakes.kaggle_api import FakeKaggle
from dataset_catalog_tests.fakes.openml_api import FakeDataset, FakeOpenML
from dataset_catalog_tests.fakes.zenodo_oai import FakeRecord, FakeZenodoOai, make_zenodo_record

LABELLED_SET = Path(__file__).with_name("duplicates_labelled_set.json")
SOURCES = ("huggingface", "kaggle", "openml", "zenodo")
LABELS = ("same", "different")
MIN_PAIRS_PER_LABEL = 70
_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")
_CARD_TAG_KINDS = ("task_categories", "task_ids", "annotations_creators", "language", "license", "size_categories", "source_datasets")  # fmt: skip
_MK_DATE = "%m/%d/%Y %H:%M:%S"  # Meta Kaggle's date format
DATASETS_HEADER = ["Id", "CreatorUserId", "OwnerUserId", "OwnerOrganizationId", "CurrentDatasetVersionId", "CurrentDatasourceVersionId", "ForumId", "Type", "CreationDate", "LastActivityDate", "TotalViews", "TotalDownloads", "TotalVotes", "TotalKernels", "Medal", "MedalAwardDate"]  # fmt: skip
VERSIONS_HEADER = ["Id", "DatasetId", "DatasourceVersionId", "CreatorUserId", "LicenseName", "CreationDate", "VersionNumber", "Title", "Slug", "Subtitle", "Description", "VersionNotes", "TotalCompressedBytes", "TotalUncompressedBytes"]  # fmt: skip
USERS_HEADER = ["Id", "UserName", "DisplayName", "RegisterDate", "PerformanceTier", "Country", "LocationSharingOptOut"]  # fmt: skip
ORGS_HEADER = ["Id", "Name", "Slug", "CreationDate", "Description"]  # fmt: skip
TAGS_HEADER = ["Id", "ParentTagId", "Name", "Slug", "FullPath", "Description", "DatasetCount", "CompetitionCount", "KernelCount"]  # fmt: skip
DATASET_TAGS_HEADER = ["Id", "DatasetId", "TagId"]  # fmt: skip


@dataclass(frozen=True)
class LabelledSet:
    records: list[dict[str, Any]]
    pairs: list[dict[str, str]]
    definition: str = ""

    @property
    def by_key(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: r for r in self.records}

    def of(self, source: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["source"] == source]

    def pair_counts(self) -> Counter:
        """(label, "sourceA-sourceB") -> pairs, the two sources sorted."""
        source = {r["key"]: r["source"] for r in self.records}
        return Counter((p["label"], "-".join(sorted((source[p["a"]], source[p["b"]])))) for p in self.pairs)


def external_id(record: dict[str, Any]) -> str:
    """The external_id the source's mapping writes for the record."""
    return {
        "huggingface": lambda r: r["repo_id"],
        "kaggle": lambda r: r["ref"],
        "openml": lambda r: str(r["did"]),
        "zenodo": lambda r: str(r.get("concept_recid") or r["recid"]),  # the concept: versions collapse into it
    }[record["source"]](record)


def load_labelled_set(path: Path = LABELLED_SET) -> LabelledSet:
    """The set, checked: unique keys and (source, external_id), known sources and labels, pairs between
    existing distinct records, no pair twice, at least MIN_PAIRS_PER_LABEL of each label."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    labelled = LabelledSet(data["records"], data["pairs"], data.get("definition", ""))
    keys = Counter(r["key"] for r in labelled.records)
    if dupes := [k for k, n in keys.items() if n > 1]:
        raise ValueError(f"duplicate record keys: {dupes}")
    if bad := [r["key"] for r in labelled.records if r["source"] not in SOURCES]:
        raise ValueError(f"records with an unknown source: {bad}")
    homes = Counter((r["source"], external_id(r)) for r in labelled.records)
    if dupes := [h for h, n in homes.items() if n > 1]:
        raise ValueError(f"records sharing a source and external id: {dupes}")
    seen: set[frozenset[str]] = set()
    for pair in labelled.pairs:
        if pair["a"] not in keys or pair["b"] not in keys or pair["a"] == pair["b"]:
            raise ValueError(f"pair between unknown or identical records: {pair}")
        if pair["label"] not in LABELS or not pair.get("why"):
            raise ValueError(f"pair without a valid label and a why: {pair}")
        if frozenset((pair["a"], pair["b"])) in seen:
            raise ValueError(f"pair labelled twice: {pair}")
        seen.add(frozenset((pair["a"], pair["b"])))
    counts = Counter(p["label"] for p in labelled.pairs)
    if short := {label: counts[label] for label in LABELS if counts[label] < MIN_PAIRS_PER_LABEL}:
        raise ValueError(f"fewer than {MIN_PAIRS_PER_LABEL} pairs: {short}")
    return labelled


def expand_columns(names: list[str]) -> list[str]:
    """Column names with ranges expanded: "pixel{1..784}", "{1..28}x{1..28}", "pixel{0000..2351}" (zero-padded)."""
    out = []
    for name in names:
        ranges = _RANGE.findall(name)
        if not ranges:
            out.append(name)
            continue
        parts = _RANGE.split(name)[::3]
        widths = [len(a) if a.startswith("0") else 0 for a, _ in ranges]
        choices = [[str(i).zfill(w) for i in range(int(a), int(b) + 1)] for (a, b), w in zip(ranges, widths)]
        for combo in itertools.product(*choices):
            out.append("".join(itertools.chain.from_iterable(itertools.zip_longest(parts, combo, fillvalue=""))))
    return out


def _moment(text: str) -> datetime:
    """An ISO time from the set; without an offset it is UTC."""
    moment = datetime.fromisoformat(text.replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- Hugging Face: /api/datasets items, the card's YAML in cardData, the card's text in description --------
def hub_items(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for r in records:
        card = r["card"]
        tags = [f"{kind}:{v}" for kind in _CARD_TAG_KINDS for v in ([card[kind]] if isinstance(card.get(kind), str) else card.get(kind) or [])]  # fmt: skip
        tags += [f"format:{v}" for v in r.get("formats", [])] + [f"modality:{v}" for v in r.get("modalities", [])]
        tags += ["library:datasets", *(f"arxiv:{a}" for a in r.get("arxiv", [])), "region:us"]
        item = make_hub_item(r["repo_id"], _moment(r["last_modified"]), downloads=r["downloads"], likes=r["likes"],
                             description=r["description"], tags=tags)  # fmt: skip
        item["_id"] = hashlib.sha1(r["repo_id"].encode()).hexdigest()[:24]
        item.update(cardData=dict(card), createdAt=r["created_at"], gated="auto" if r.get("gated") else False)
        if r.get("citation"):
            item["citation"] = r["citation"]
        items.append(item)
    return items


# -- Kaggle: the six Meta Kaggle CSVs (the seed) and the API's metadata and file lists (the enrichment) -----
def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue().encode()


def meta_kaggle_files(records: list[dict[str, Any]]) -> dict[str, bytes]:
    users: dict[str, int] = {}
    orgs: dict[str, tuple[int, str]] = {}
    tags = {name: 900 + i for i, name in enumerate(sorted({k for r in records for k in r.get("keywords", [])}))}
    datasets, versions, dataset_tags = [], [], []
    for i, r in enumerate(records):
        owner = r["ref"].split("/")[0]
        is_org = r["owner_kind"] == "organization"
        creator = users.setdefault(f"{owner}-admin" if is_org else owner, 5000 + len(users))
        if is_org:
            orgs.setdefault(owner, (700 + len(orgs), r["owner_name"]))
        version_id = 9_000_000 + i
        created, updated = (_moment(r[k]).strftime(_MK_DATE) for k in ("created", "updated"))
        datasets.append([r["dataset_id"], creator, None if is_org else creator, orgs[owner][0] if is_org else None,
                         version_id, version_id, 8000 + i, 2, created, updated, r["views"], r["downloads"], r["votes"],
                         0, None, None])  # fmt: skip
        versions.append([version_id, r["dataset_id"], version_id, creator, r["license"], updated, r.get("version", 1),
                         r["title"], r["ref"].split("/")[1], r["subtitle"], r["description"], None, None, None])  # fmt: skip
        dataset_tags += [[len(dataset_tags) + j + 1, r["dataset_id"], tags[k]] for j, k in enumerate(r.get("keywords", []))]  # fmt: skip
    return {
        "Datasets": _csv(DATASETS_HEADER, datasets),
        "DatasetVersions": _csv(VERSIONS_HEADER, versions),
        "Users": _csv(USERS_HEADER, [[uid, name, name.title(), "01/01/2016", 1, None, False] for name, uid in users.items()]),
        "Organizations": _csv(ORGS_HEADER, [[oid, name, slug, "01/01/2016 00:00:00", None] for slug, (oid, name) in orgs.items()]),
        "Tags": _csv(TAGS_HEADER, [[tid, None, name, name.replace(" ", "-"), name, None, 1, 0, 0] for name, tid in tags.items()]),
        "DatasetTags": _csv(DATASET_TAGS_HEADER, dataset_tags),
    }  # fmt: skip


def add_kaggle_datasets(fake: FakeKaggle, records: list[dict[str, Any]]) -> None:
    """The datasets on the fake API (metadata, file lists with columns) and Meta Kaggle, as the seed downloads it."""
    for r in records:
        dataset = fake.add_dataset(
            r["ref"], r["title"], subtitle=r["subtitle"], description=r["description"], votes=r["votes"],
            downloads=r["downloads"], views=r["views"], license_name=r["license"], keywords=r.get("keywords", []),
            usability=r.get("usability"), last_updated=_moment(r["updated"]),
        )  # fmt: skip
        dataset.id = r["dataset_id"]
        for entry in r["files"]:
            columns = expand_columns(entry.get("columns", []))
            header = _csv(columns, []) if columns and entry["name"].endswith(".csv") else b""
            fake.add_file(r["ref"], entry["name"], header, columns=columns)
    fake.add_dataset(META_KAGGLE_REF, "Meta Kaggle")
    for name, content in meta_kaggle_files(records).items():
        fake.add_file(META_KAGGLE_REF, f"{name}.csv", content, zipped=name == "DatasetVersions")


# -- OpenML: listing, qualities and features from FakeDataset; the full data description as a raw body -------
def openml_datasets(records: list[dict[str, Any]]) -> tuple[list[FakeDataset], dict[str, bytes]]:
    datasets, bodies = [], {}
    for r in records:
        columns = [(name, kind) for pattern, kind in r["columns"] for name in expand_columns([pattern])]
        d = FakeDataset(
            r["did"], r["name"], version=r["version"], description=r["description"], licence=r["licence"],
            creator=r["creator"], upload_date=r["upload_date"], default_target=r["default_target"], tags=r.get("tags", []),
            columns=columns, instances=r["instances"], classes=r.get("classes", 0), missing=r.get("missing", 0),
        )  # fmt: skip
        body = d.description_json()
        described = body["data_set_description"]
        described.pop("citation")  # the fake's placeholder
        for field in ("citation", "original_data_url", "paper_url", "collection_date", "language", "contributor"):
            if r.get(field):
                described[field] = r[field]
        datasets.append(d)
        bodies[f"data/{r['did']}"] = json.dumps(body).encode()
    return datasets, bodies


# -- Zenodo: oai_datacite records, every version of a work, with its related identifiers --------------------
def zenodo_records(records: list[dict[str, Any]]) -> list[FakeRecord]:
    out = []
    for r in records:
        related = "".join(
            f"<relatedIdentifier relatedIdentifierType={quoteattr(x['type'])} relationType={quoteattr(x['relation'])}>{escape(x['id'])}</relatedIdentifier>"
            for x in r.get("related", [])
        ).encode()
        latest = {k: r.get(k) for k in ("recid", "version", "publication_date", "datestamp")}
        for v in [*r.get("older_versions", []), latest]:
            record = make_zenodo_record(
                v["recid"], _moment(v["datestamp"]), concept_recid=r.get("concept_recid"), title=r["title"],
                description=r["description"], keywords=tuple(r.get("keywords", [])), license=r.get("license"),
                creators=tuple(tuple(c) for c in r["creators"]), publication_date=v["publication_date"],
                version=v.get("version"), sizes=tuple(r.get("sizes", [])), formats=tuple(r.get("formats", [])),
                language=r.get("language"),
            )  # fmt: skip
            xml = record.xml
            if related:
                closing = b"</relatedIdentifiers>"
                wrapped = b"<relatedIdentifiers>" + related + closing + b"<rightsList>"
                xml = xml.replace(closing, related + closing) if closing in xml else xml.replace(b"<rightsList>", wrapped)  # fmt: skip
            out.append(replace(record, xml=xml))
    return out


# -- the ingest ------------------------------------------------------------------------------------------------
@contextmanager
def _environment(**values: str) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def _day_range(moments: list[str], first: str) -> tuple[str, str]:
    days = sorted(_moment(m).date() for m in moments)
    return max(days[0], date.fromisoformat(first)).isoformat(), max(days[-1], date.fromisoformat(first)).isoformat()


def _materialize(instance, asset, resources: dict, *, days: tuple[str, str] | None = None, config: dict | None = None):
    """One real materialization; a failed run raises with its step errors."""
    tags = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[1]} if days else {}  # fmt: skip
    name = asset.key.path[-1]
    result = dg.materialize([asset], resources=resources, tags=tags, instance=instance, raise_on_error=False,
                            run_config=dg.RunConfig(ops={name: {"config": config or {}}}))  # fmt: skip
    if not result.success:
        errors = [e.event_specific_data.error.to_string() for e in result.get_step_failure_events()]
        raise RuntimeError(f"{name} failed against the fakes: {errors}")


def ingest_labelled_set(catalog_url: str, workdir: Path, labelled: LabelledSet | None = None) -> dict[str, int]:
    """Serve the set through the four fakes on 127.0.0.1, run each source's real asset into the catalog at
    `catalog_url`, and return record key -> catalog dataset id. Raises if a run fails or a record has no row."""
    labelled = labelled or load_labelled_set()
    hf, kaggle_records, openml, zenodo = (labelled.of(s) for s in SOURCES)
    workdir = Path(workdir)
    (workdir / "dagster").mkdir(parents=True, exist_ok=True)
    catalog = CatalogResource(database_url=catalog_url)
    fast = {"retry_backoff_seconds": 0.01, "request_timeout_seconds": 10.0}
    with ExitStack() as stack:
        stack.enter_context(_environment(DATASET_CATALOG_CACHE_DIR=str(workdir / "cache")))  # Meta Kaggle, pacing locks
        instance = stack.enter_context(dg.instance_for_test(temp_dir=str(workdir / "dagster")))
        hub = stack.enter_context(FakeHub(hub_items(hf)))
        kaggle = stack.enter_context(FakeKaggle())
        add_kaggle_datasets(kaggle, kaggle_records)
        fake_datasets, bodies = openml_datasets(openml)
        openml_fake = stack.enter_context(FakeOpenML(fake_datasets))
        openml_fake.raw_bodies.update(bodies)
        zenodo_fake = stack.enter_context(FakeZenodoOai(zenodo_records(zenodo)))
        zenodo_fake.rate_limit = None
        hf_resource = HuggingFaceResource(endpoint=hub.url, request_timeout_seconds=10.0)
        hf_days = _day_range([r["last_modified"] for r in hf], HF_PARTITIONS_START)
        _materialize(instance, hf_datasets, {"catalog": catalog, "huggingface": hf_resource}, days=hf_days)
        kaggle_resource = KaggleResource(endpoint=kaggle.url, username=kaggle.username, key=kaggle.key,
                                         api_token=kaggle.token, requests_per_second=500.0, **fast)  # fmt: skip
        kaggle_resources = {"catalog": catalog, "kaggle": kaggle_resource}
        _materialize(instance, kaggle_seeded_datasets, kaggle_resources)
        _materialize(instance, kaggle_enriched_datasets, kaggle_resources, config={"batch_size": len(kaggle_records)})
        openml_resource = OpenMLResource(endpoint=openml_fake.url, requests_per_second=500.0, **fast)
        _materialize(instance, openml_asset, {"catalog": catalog, "openml": openml_resource})
        zenodo_resource = ZenodoResource(endpoint=f"{zenodo_fake.url}/oai2d", requests_per_minute=None, **fast)
        stamps = [v["datestamp"] for r in zenodo for v in [*r.get("older_versions", []), r]]
        zenodo_days = _day_range(stamps, ZENODO_PARTITIONS_START)
        _materialize(instance, zenodo_datasets, {"catalog": catalog, "zenodo": zenodo_resource}, days=zenodo_days)
    with CatalogStore(catalog_url) as store:
        ids = {(s, row["external_id"]): row["id"] for s in SOURCES for row in store.fetch_datasets(s)}
    mapping = {r["key"]: ids.get((r["source"], external_id(r))) for r in labelled.records}
    if missing := sorted(k for k, v in mapping.items() if v is None):
        raise LookupError(f"records with no catalog row after the ingest: {missing}")
    return mapping
