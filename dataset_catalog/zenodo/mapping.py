"""One `oai_datacite` record (one version of a Zenodo work) -> plain values; a work -> its catalog row.

Every version of a work is its own OAI-PMH record. A record is read into a `version` dict of plain
JSON values; the catalog row of the work (keyed by the concept record id) is a pure function of the
work's state in `source_meta` (the latest version's values and the ids of every version seen), so
re-harvesting anything gives the same row and the same sync hash.

DataCite elements are matched by local name ({*}): Zenodo serves kernel-4, older records kernel-3.
Zenodo's descriptions are HTML: they are reduced to plain text here (`html_to_text`), and titles,
keywords and names lose any tags too, so nothing stored can render as markup.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

import orjson

from dataset_catalog.catalog.schema import EnrichmentStatus
from dataset_catalog.common.cleaning import clean_str_list, clean_text, parse_datetime
from dataset_catalog.common.licenses import normalize_license
from dataset_catalog.common.standard_fields import CreatorKind, LoadLanguage, citation, creator
from dataset_catalog.zenodo import SOURCE  # the package declares it (common/sources.py)

# Bump when the row derived from source_meta changes, so the next harvest rewrites every row.
MAPPING_VERSION = b"zenodo-mapping-2"  # 2: the standard fields (creators, citation, load_code)
OAI = "{http://www.openarchives.org/OAI/2.0/}"
MAX_LIST_ITEMS = 100
MAX_VERSIONS_KEPT = 1000  # ids of versions listed in source_meta; the count goes on past it
RECID = re.compile(r"(?:^|:)(\d{1,12})$")
_ZENODO_DOI = re.compile(r"^10\.5281/zenodo\.(\d{1,12})$", re.I)
_SIZE = re.compile(r"^\s*([\d.,]+)\s*([kmgtp]?i?b|bytes?)?\s*$", re.I)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}

# HTML -> text: blocks whose insides are not prose go first, block ends become paragraph breaks.
_DROPPED = re.compile(r"<(script|style|svg|math|iframe|object|template|noscript)\b.*?(</\1\s*>|\Z)", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.S)
_BLOCK_END = re.compile(
    r"<(?:/(?:p|div|li|h[1-6]|tr|blockquote|pre|ul|ol|table|section)|br\s*/?|hr\s*/?)\b[^>]*>", re.I
)
_TAG = re.compile(r"</?[a-zA-Z!?][^<>]*>")
_OPENER = re.compile(r"<(?=[a-zA-Z/!?])")
_PARAGRAPHS = re.compile(r"\n\s*\n+")


class MalformedRecord(ValueError):
    """A record that can't become a version of a work; the message says why."""


class DeletedRecord(Exception):
    """A record the repository marks deleted (header status="deleted")."""


def _strip_markup(text: str) -> str:
    """Tags removed, entities decoded, and tags that decoding produced removed too."""
    for _ in range(5):  # "<scr<b>ipt>" and "&lt;b&gt;" become tags only after a pass
        stripped = _TAG.sub(" ", html.unescape(_TAG.sub(" ", text)))
        if stripped == text or ("<" not in stripped and "&" not in stripped):
            text = stripped
            break
        text = stripped
    return _OPENER.sub("< ", text) if "<" in text else text  # whatever is left can't open a tag


def html_to_text(value: str | None, max_chars: int = 20_000) -> str | None:
    """Paragraphs of plain text (blank-line separated) from an HTML description."""
    if not value or not value.strip():
        return None
    if "<" not in value and "&" not in value:  # plain text already
        return clean_text("\n\n".join(" ".join(p.split()) for p in _PARAGRAPHS.split(value) if p.strip()), max_chars)
    text = value[: max_chars * 2]
    if "<!--" in text:
        text = _COMMENT.sub(" ", text)
    text = _strip_markup(_BLOCK_END.sub("\n\n", _DROPPED.sub(" ", text)))
    paragraphs = (" ".join(p.split()) for p in _PARAGRAPHS.split(text))
    return clean_text("\n\n".join(p for p in paragraphs if p), max_chars)


def plain(value: str | None, max_chars: int = 512) -> str | None:
    """One line of plain text (titles, keywords, names)."""
    if not value:
        return None
    if "<" not in value and "&" not in value and value.isprintable():  # the usual case, 10x cheaper
        return " ".join(value.split())[:max_chars] or None
    return clean_text(" ".join(_strip_markup(value).split()), max_chars)


def _text(element: Any) -> str | None:
    if element is None:
        return None
    if not len(element):  # no child elements: its text is all of it
        text = element.text
        return (text.strip() or None) if text else None
    return "".join(element.itertext()).strip() or None


def _unique(values: list[str | None], max_chars: int = 256) -> list[str]:
    return clean_str_list([plain(v, max_chars) for v in values], MAX_LIST_ITEMS, max_chars)


def parse_size(text: str) -> int | None:
    match = _SIZE.match(text or "")
    if not match:
        return None
    try:
        number = float(match.group(1).replace(",", ""))
    except ValueError:
        return None
    return int(number * _SIZE_UNITS.get((match.group(2) or "").lower(), 1))


_HEADER, _IDENTIFIER, _DATESTAMP = f"{OAI}header", f"{OAI}identifier", f"{OAI}datestamp"


def record_header(record: Any) -> tuple[str | None, str | None, bool]:
    """(OAI identifier, datestamp text, deleted) of a <record>."""
    header = record[0] if len(record) and record[0].tag == _HEADER else record.find(_HEADER)
    if header is None:
        return None, None, False
    identifier = datestamp = None
    for child in header:  # one pass over a few children, not a search per field
        tag = child.tag
        if tag == _IDENTIFIER and identifier is None:
            identifier = child.text or ""
        elif tag == _DATESTAMP and datestamp is None:
            datestamp = child.text or ""
    return identifier, datestamp, header.get("status") == "deleted"


class _Fields:
    """What a DataCite <resource> says, read in one pass over its elements: each element reached is
    a Python proxy in lxml (~0.5 us), so one filtered walk with a dispatch on the local name, not a
    search per field (the searches cost ~130 us a record, as much as fetching and parsing it)."""

    __slots__ = (
        "titles",
        "identifiers",
        "related",
        "descriptions",
        "creators",
        "subjects",
        "rights",
        "dates",
        "year",
        "resource_type",
        "languages",
        "formats",
        "sizes",
        "version",
        "publisher",
        "urls",
    )

    def __init__(self, resource: Any):
        for name in self.__slots__:
            setattr(self, name, [])
        creator: dict[str, Any] | None = None  # the <creator> being read (contributors are not creators)
        for element in resource.iter(*_WANTED):  # filtered in C: containers never become proxies
            tag = element.tag
            name = tag[tag.rfind("}") + 1 :]
            text = element.text  # containers' is whitespace; mixed content (title, description) is joined below
            if name == "title":
                text = "".join(element.itertext()) if len(element) else text
                self.titles.append((element.get("titleType"), text))
            elif name == "subject":
                self.subjects.append(text)
            elif name == "creator":
                creator = {"name": None}
                self.creators.append(creator)
            elif name == "contributor":
                creator = None
            elif creator is not None and name == "creatorName":
                creator["name"] = text
                if element.get("nameType") == "Organizational":
                    creator["organization"] = True
            elif creator is not None and name == "nameIdentifier":
                if (element.get("nameIdentifierScheme") or "").upper() == "ORCID":
                    creator["orcid"] = text
            elif creator is not None and name == "affiliation":
                creator.setdefault("affiliation", []).append(text)
            elif name == "identifier":
                self.identifiers.append((element.get("identifierType"), text))
            elif name == "relatedIdentifier":
                self.related.append((element.get("relationType"), element.get("relatedIdentifierType"), text))
            elif name == "description":
                text = "".join(element.itertext()) if len(element) else text
                self.descriptions.append((element.get("descriptionType"), text))
            elif name == "rights":
                self.rights.append((element.get("rightsURI"), element.get("rightsIdentifier"), text))
            elif name == "date":
                self.dates.append((element.get("dateType"), text))
            elif name == "alternateIdentifier":
                if (element.get("alternateIdentifierType") or "").lower() == "url":
                    self.urls.append(text)
            elif name == "resourceType":
                self.resource_type.append((element.get("resourceTypeGeneral"), text))
            elif name in ("publicationYear", "language", "format", "size", "version", "publisher"):
                getattr(self, _LISTS[name]).append(text)


_WANTED = tuple(
    "{*}" + name
    for name in (
        "title",
        "subject",
        "creator",
        "contributor",
        "creatorName",
        "nameIdentifier",
        "affiliation",
        "identifier",
        "relatedIdentifier",
        "description",
        "rights",
        "date",
        "alternateIdentifier",
        "resourceType",
        "publicationYear",
        "language",
        "format",
        "size",
        "version",
        "publisher",
    )
)
_LISTS = {
    "publicationYear": "year",
    "language": "languages",
    "format": "formats",
    "size": "sizes",
    "version": "version",
    "publisher": "publisher",
}


def _creators(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    creators = []
    for entry in entries[:MAX_LIST_ITEMS]:
        name = plain(entry["name"])
        if not name:
            continue
        creator: dict[str, Any] = {"name": name}
        if entry.get("organization"):
            creator["organization"] = True  # DataCite nameType="Organizational"; a person otherwise
        orcid = plain(entry.get("orcid"), 64)
        if orcid:
            creator["orcid"] = orcid
        affiliations = _unique(entry.get("affiliation") or [])
        if affiliations:
            creator["affiliation"] = affiliations
        creators.append(creator)
    return creators


def _rights(entries: list[tuple]) -> tuple[str | None, str | None, list[dict[str, str]]]:
    """(license id or label, access right, every rights entry)."""
    license_label, access, kept = None, None, []
    for uri, identifier, text in entries[:MAX_LIST_ITEMS]:
        uri, identifier, text = (uri or "").strip(), (identifier or "").strip(), plain(text)
        kept.append({k: v for k, v in (("uri", uri), ("identifier", identifier), ("name", text)) if v})
        if uri.startswith("info:eu-repo/semantics/"):
            access = uri.rsplit("/", 1)[-1]  # openAccess, embargoedAccess, restrictedAccess, closedAccess
        elif license_label is None:
            license_label = identifier or text or uri or None
    if license_label:
        license_label = normalize_license(license_label).id or plain(license_label, 256)
    return license_label, access, kept


def _resource(record: Any) -> Any:
    """metadata/oai_datacite/payload/resource, by the direct path (a descendant search costs ~25 us
    a record), else wherever it is."""
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or not len(metadata):
        return None
    payload = metadata[0].find("{*}payload")
    if payload is not None and len(payload) and str(payload[0].tag).endswith("}resource"):
        return payload[0]
    return metadata.find(".//{*}resource")


def map_record(record: Any) -> dict[str, Any]:
    """The version a <record> describes, as plain JSON values. Raises DeletedRecord for a deleted
    record and MalformedRecord when it lacks a usable id, datestamp, DataCite resource or title."""
    identifier, datestamp_text, deleted = record_header(record)
    recid_match = RECID.search((identifier or "").strip())
    if not recid_match:
        raise MalformedRecord(f"missing or unusable OAI identifier ({str(identifier)[:60]!r})")
    datestamp = parse_datetime(datestamp_text)
    if datestamp is None:
        raise MalformedRecord(f"missing or unparseable datestamp ({str(datestamp_text)[:40]!r})")
    if deleted:
        raise DeletedRecord(identifier)
    resource = _resource(record)
    if resource is None:
        raise MalformedRecord("no DataCite <resource> in the record's metadata")
    recid = int(recid_match.group(1))
    fields = _Fields(resource)
    main_titles = [t for t in fields.titles if not t[0]] or fields.titles
    title = plain(main_titles[0][1]) if main_titles else None
    if not title:
        raise MalformedRecord("no title")
    subtitle = next((plain(text) for kind, text in fields.titles if kind == "Subtitle"), None)
    doi = next((plain(text, 256) for kind, text in fields.identifiers if kind == "DOI"), None)
    concept_doi, concept_recid = None, None
    for relation, kind, text in fields.related:
        if relation == "IsVersionOf" and (kind or "").upper() == "DOI":
            concept_doi = plain(text, 256)
            match = _ZENODO_DOI.match(concept_doi or "")
            if match:
                concept_recid = int(match.group(1))
                break
    if concept_recid is None:  # records from before versioning are their own concept
        concept_recid, concept_doi = recid, concept_doi or doi
    abstract = next((d for d in fields.descriptions if d[0] == "Abstract"), None)
    abstract = abstract if abstract is not None else (fields.descriptions[0] if fields.descriptions else None)
    other_descriptions = {d[0] or "Other": html_to_text(d[1], 2_000) for d in fields.descriptions if d is not abstract}
    dates: dict[str, str | None] = {}
    for kind, text in fields.dates:
        if kind and text and text.strip():
            dates.setdefault(kind, plain(text, 64))
    published = parse_datetime(dates.get("Issued")) or parse_datetime(
        f"{(fields.year or [''])[0] or ''}".strip() + "-01-01"
    )
    license_label, access_right, rights = _rights(fields.rights)
    sizes = _unique(fields.sizes, 64)
    parsed_sizes = [parse_size(s) for s in sizes]
    url = next((plain(u, 1000) for u in fields.urls if (u or "").strip().startswith("http")), None)
    general, subtype = fields.resource_type[0] if fields.resource_type else (None, None)
    version = {
        "recid": recid,
        "oai_identifier": plain(identifier, 128),
        "datestamp": datestamp.isoformat(),
        "doi": doi,
        "concept_recid": concept_recid,
        "concept_doi": concept_doi,
        "title": title,
        "subtitle": subtitle,
        "description": html_to_text(abstract[1]) if abstract else None,
        "other_descriptions": {k: v for k, v in other_descriptions.items() if v} or None,
        "creators": _creators(fields.creators),
        "keywords": _unique(fields.subjects),
        "license": license_label,
        "access_right": access_right,
        "rights": rights,
        "publication_date": published.date().isoformat() if published else None,
        "dates": dates or None,
        "resource_type": {"general": plain(general, 64), "subtype": plain(subtype, 128)},
        "languages": _unique(fields.languages, 32),
        "formats": _unique(fields.formats, 128),
        "sizes": sizes,
        "size_bytes": sum(parsed_sizes) if parsed_sizes and None not in parsed_sizes else None,
        "version": plain((fields.version or [None])[0], 64),
        "publisher": plain((fields.publisher or [None])[0], 256),
        "url": url or f"https://zenodo.org/records/{recid}",
    }
    return version


def merge_work(stored_meta: dict[str, Any] | None, versions: list[dict[str, Any]]) -> dict[str, Any]:
    """A work's state after seeing `versions` (of one concept), given its stored state, if any.

    The latest version (the highest record id: Zenodo numbers versions in creation order) gives the
    row's values, whichever order the versions arrive in; every version's id is kept, so the count
    is right once all of them were harvested, over any number of runs."""
    latest = stored_meta.get("latest") if stored_meta else None
    known = set(stored_meta.get("version_recids") or []) if stored_meta else set()
    count = int(stored_meta.get("version_count") or len(known)) if stored_meta else 0
    last_datestamp = stored_meta.get("last_datestamp") if stored_meta else None
    for version in versions:
        recid = version["recid"]
        if recid not in known:
            known.add(recid)
            count = max(count + 1, len(known))
        if (
            latest is None
            or recid > latest["recid"]
            or (recid == latest["recid"] and version["datestamp"] >= latest["datestamp"])
        ):
            latest = version
        if last_datestamp is None or version["datestamp"] > last_datestamp:
            last_datestamp = version["datestamp"]
    return {
        "concept_recid": latest["concept_recid"],
        "concept_doi": latest["concept_doi"],
        "latest_recid": latest["recid"],
        "version_count": max(count, len(known)),
        "version_recids": sorted(known)[-MAX_VERSIONS_KEPT:],
        "last_datestamp": last_datestamp,
        "latest": latest,
    }


def withdraw_versions(meta: dict[str, Any], recids: set[int]) -> dict[str, Any] | None:
    """A work's state after Zenodo deleted the versions `recids`; None if it lists none of them.
    A work left with no version is withdrawn (its row inactive) until a new version arrives:
    merge_work builds a fresh state, without the mark. The row keeps the latest version's text."""
    known = [r for r in meta.get("version_recids") or [] if isinstance(r, int)]
    removed = [r for r in known if r in recids]
    if not removed:
        return None
    left = [r for r in known if r not in recids]
    state = {
        **meta,
        "version_recids": left,
        "version_count": max(int(meta.get("version_count") or 0) - len(removed), len(left)),
    }
    if not left:
        state["withdrawn"] = True
    return state


def datacite_citation(version: dict[str, Any]) -> str | None:
    """The version cited as DataCite formats a citation: Creators (Year). Title (Version)
    [Data set]. Publisher. https://doi.org/DOI. None without a DOI to cite."""
    if not version.get("doi"):
        return None
    names = "; ".join(c["name"] for c in version.get("creators") or [])
    year = (version.get("publication_date") or "")[:4]
    text = f"{names} ({year}). " if names and year else f"{names}. " if names else ""
    text += version["title"] + (f" (Version {version['version']})" if version.get("version") else "")
    if (version.get("resource_type") or {}).get("general") == "Dataset":
        text += " [Data set]"
    return citation(f"{text}. {version.get('publisher') or 'Zenodo'}. https://doi.org/{version['doi']}")


def work_row(meta: dict[str, Any]) -> dict[str, Any]:
    """The catalog row of a work: a pure function of its state (merge_work)."""
    latest = meta["latest"]
    published = parse_datetime(latest.get("publication_date"))
    row = {
        "source": SOURCE,
        "external_id": str(meta["concept_recid"]),
        "title": latest["title"],
        "subtitle": latest.get("subtitle"),
        "url": latest["url"],
        "description": latest.get("description"),
        "tags": latest.get("keywords") or [],
        "languages": latest.get("languages") or [],
        "license": latest.get("license"),
        "file_formats": latest.get("formats") or [],
        "size_bytes": latest.get("size_bytes"),
        "source_created_at": published,
        "source_updated_at": parse_datetime(meta["last_datestamp"]),
        "enrichment_status": EnrichmentStatus.ENRICHED,  # the harvest carries all the metadata there is
        "is_active": not meta.get("withdrawn"),
        # DataCite lists no files (sizes and formats only): `files` stays NULL.
        "creators": [
            entry
            for c in latest.get("creators") or []
            if (entry := creator(c["name"], CreatorKind.ORGANIZATION if c.get("organization") else CreatorKind.PERSON))
        ],
        "citation": datacite_citation(latest),
        # The concept DOI resolves to the work's latest version.
        "load_code": f"https://doi.org/{meta['concept_doi']}" if meta.get("concept_doi") else latest["url"],
        "load_language": LoadLanguage.URL,
    }
    raw = orjson.dumps(meta, option=orjson.OPT_SORT_KEYS)
    row["source_meta"] = meta
    row["sync_hash"] = hashlib.sha256(MAPPING_VERSION + raw).hexdigest()
    return row
