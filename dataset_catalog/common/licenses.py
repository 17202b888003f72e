"""One license vocabulary across sources: a source's own label -> SPDX id, family and display name.

Sources label the same license differently (Kaggle "CC0: Public Domain", the Hub `cc0-1.0`,
Kaggle "Attribution 4.0 International (CC BY 4.0)", the Hub `cc-by-4.0`). Every label is
mapped here, once, and the catalog keeps the source's label as it came: search filters and
facets translate through `normalize_license`, so rows written before a mapping improves are
read with the improved one.

- `id`: the SPDX license id when one exists (`CC0-1.0`, `CC-BY-4.0`, `ODbL-1.0`), looked up
  in the SPDX list that `license-expression` ships; else a stable lower-case id of ours for
  well-known non-SPDX licenses (`openrail`, `llama2`), else None.
- `family`: the license without version or `-only`/`-or-later` (`cc-by`, `cc-by-sa`, `gpl`,
  `apache`), so one filter takes every version; `other` and `unknown` for what names no license.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

UNKNOWN = "unknown"
OTHER = "other"


@dataclass(frozen=True)
class License:
    label: str | None  # the source's own label, as stored
    id: str | None  # SPDX id, our id for a known non-SPDX license, or None
    family: str
    name: str  # what a person reads

    def to_dict(self) -> dict[str, str | None]:
        return {"label": self.label, "id": self.id, "family": self.family, "name": self.name}


# Labels that are not SPDX ids, lower-cased with runs of space/punctuation folded to one space.
_ALIASES = {
    "cc0 public domain": "CC0-1.0",
    "public domain cc0": "CC0-1.0",  # OpenML
    "creative commons zero v1 0 universal": "CC0-1.0",  # Zenodo, SPDX's full name
    "cc0": "CC0-1.0",
    "public domain": "public-domain",
    "public domain mark": "public-domain",
    "u s government works": "public-domain",
    "us government works": "public-domain",
    "odbl": "ODbL-1.0",
    "open database license odbl": "ODbL-1.0",
    "open data commons open database license odbl v1 0": "ODbL-1.0",
    "database open database contents database contents": "ODbL-1.0",
    "database open database contents": "ODbL-1.0",
    "odc by": "ODC-By-1.0",
    "open data commons attribution license odc by v1 0": "ODC-By-1.0",
    "pddl": "PDDL-1.0",
    "open data commons public domain dedication and license pddl": "PDDL-1.0",
    "apache 2 0": "Apache-2.0",
    "apache license 2 0": "Apache-2.0",
    "gpl 2": "GPL-2.0-only",
    "gpl 3": "GPL-3.0-only",
    "gnu general public license 2 0": "GPL-2.0-only",
    "gnu general public license 3 0": "GPL-3.0-only",
    "gnu lesser general public license 3 0": "LGPL-3.0-only",
    "gnu affero general public license 3 0": "AGPL-3.0-only",
    "gnu free documentation license 1 3": "GFDL-1.3-only",
    "gfdl": "gfdl",
    "bsd 3 clause": "BSD-3-Clause",
    "bsd 2 clause": "BSD-2-Clause",
    "community data license agreement permissive version 1 0": "CDLA-Permissive-1.0",
    "community data license agreement sharing version 1 0": "CDLA-Sharing-1.0",
    "cdla permissive 1 0": "CDLA-Permissive-1.0",
    "cdla permissive 2 0": "CDLA-Permissive-2.0",
    "cdla sharing 1 0": "CDLA-Sharing-1.0",
    "c uda": "C-UDA-1.0",
    "mit": "MIT",
    "the mit license": "MIT",
    "other": OTHER,
    "other specified in description": OTHER,
    "unknown": UNKNOWN,
    "none": UNKNOWN,
    "not specified": UNKNOWN,
}
# Well-known licenses without an SPDX id (the Hub's license list): our id -> family, name.
_OUR_IDS = {
    "public-domain": ("public-domain", "Public domain"),
    "gfdl": ("gfdl", "GNU Free Documentation License"),
    "openrail": ("openrail", "OpenRAIL"),
    "openrail++": ("openrail", "OpenRAIL++"),
    "bigscience-openrail-m": ("openrail", "BigScience OpenRAIL-M"),
    "creativeml-openrail-m": ("openrail", "CreativeML OpenRAIL-M"),
    "bigcode-openrail-m": ("openrail", "BigCode OpenRAIL-M"),
    "bigscience-bloom-rail-1.0": ("openrail", "BigScience BLOOM RAIL 1.0"),
    "llama2": ("llama", "Llama 2 Community License"),
    "llama3": ("llama", "Llama 3 Community License"),
    "llama3.1": ("llama", "Llama 3.1 Community License"),
    "llama3.2": ("llama", "Llama 3.2 Community License"),
    "llama3.3": ("llama", "Llama 3.3 Community License"),
    "llama4": ("llama", "Llama 4 Community License"),
    "gemma": ("gemma", "Gemma Terms of Use"),
    "apple-ascl": ("apple-ascl", "Apple Sample Code License"),
    "intel-research": ("intel-research", "Intel Research Use License"),
}
# "CC BY-NC-SA 4.0", "Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)", "cc-by-4.0", "CC-BY-SA-3.0-IGO".
_CREATIVE_COMMONS = re.compile(
    r"\bcc[\s_-]*(by(?:[\s_-]*(?:nc|sa|nd))*)(?:[\s_-]*v?(\d(?:\.\d)?))?(?:[\s_-]*(igo))?\b", re.I
)
_FOLD = re.compile(r"[^0-9a-z+]+")
_VERSION_SUFFIX = re.compile(r"(-\d+(\.\d+)*)?(-only|-or-later|\+)?(-[a-z]{2,3})?$", re.I)


@lru_cache(maxsize=1)
def _spdx_ids() -> dict[str, str]:
    """SPDX ids (and their deprecated forms' replacements) keyed by lower case."""
    from license_expression import get_spdx_licensing  # ~50 ms: loaded on first use only

    ids: dict[str, str] = {}
    for symbol in get_spdx_licensing().known_symbols.values():
        ids.setdefault(symbol.key.lower(), symbol.key)
        for alias in getattr(symbol, "aliases", ()) or ():
            ids.setdefault(str(alias).lower(), symbol.key)
    # Deprecated bare GPL-family ids mean "-only" (SPDX's own guidance).
    for base in ("gpl-2.0", "gpl-3.0", "lgpl-2.1", "lgpl-3.0", "agpl-3.0", "gfdl-1.3"):
        ids[base] = ids.get(f"{base}-only", ids.get(base, base.upper()))
    return ids


def _family(license_id: str) -> str:
    if license_id in _OUR_IDS:
        return _OUR_IDS[license_id][0]
    lowered = license_id.lower()
    if lowered.startswith("cc0"):
        return "cc0"
    if lowered.startswith("cc-") or lowered.startswith("cc-pddc"):
        parts = [p for p in lowered.split("-")[1:] if p in ("by", "nc", "sa", "nd")]
        return "cc-" + "-".join(parts) if parts else "cc"
    family = _VERSION_SUFFIX.sub("", lowered)
    family = re.sub(r"-\d+(-clause)?.*$", "", family) if family.startswith("bsd") else family
    return family or lowered


# "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International" (Zenodo, DataCite) in CC's short words.
_CC_WORDS = (
    (re.compile(r"\bcreative\s+commons\b", re.I), "cc"),
    (re.compile(r"\battribution\b", re.I), "by"),
    (re.compile(r"\bnon[\s-]?commercial\b", re.I), "nc"),
    (re.compile(r"\bshare[\s-]?alike\b", re.I), "sa"),
    (re.compile(r"\bno[\s-]?deriv(?:ative)?s\b", re.I), "nd"),
)


def _creative_commons(label: str) -> tuple[str | None, str] | None:
    """(SPDX id or None, family) of a Creative Commons label written any of the usual ways."""
    for words, short in _CC_WORDS:
        label = words.sub(short, label)
    match = _CREATIVE_COMMONS.search(label)
    if not match:
        return None
    family = "cc-" + "-".join(re.split(r"[\s_-]+", match.group(1).lower()))
    version = match.group(2)
    if not version:
        return None, family  # no version: the family is known, the SPDX id is not
    if "." not in version:
        version += ".0"
    return _spdx_ids().get(f"{family}-{version}" + ("-igo" if match.group(3) else "")), family


@lru_cache(maxsize=4096)
def normalize_license(label: str | None) -> License:
    """The License a source label stands for (never raises; unknown labels give family `other`)."""
    text = " ".join((label or "").split())
    if not text:
        return License(None, None, UNKNOWN, "Unknown")
    lowered = text.lower()
    folded = " ".join(_FOLD.sub(" ", lowered).split())
    license_id = _spdx_ids().get(lowered) or _ALIASES.get(folded)
    if license_id is None and lowered in _OUR_IDS:
        license_id = lowered
    if license_id is None and ("cc" in lowered or "creative commons" in lowered):
        creative_commons = _creative_commons(text)
        if creative_commons and creative_commons[0]:
            license_id = creative_commons[0]
        elif creative_commons:
            return License(text, None, creative_commons[1], text)
    if license_id in (OTHER, UNKNOWN):
        return License(text, None, license_id, "Other" if license_id == OTHER else "Unknown")
    if license_id is None:
        return License(text, None, OTHER, text)
    name = _OUR_IDS[license_id][1] if license_id in _OUR_IDS else license_id
    return License(text, license_id, _family(license_id), name)


def matches_license(label: str | None, wanted: str) -> bool:
    """Whether a stored label is the license `wanted`: an SPDX id, our id or a source label,
    compared case-insensitively after normalising both."""
    wanted_license = normalize_license(wanted)
    mine = normalize_license(label)
    if wanted_license.id:
        return mine.id is not None and mine.id.lower() == wanted_license.id.lower()
    if wanted.strip().lower() == wanted_license.family:  # "other", "unknown", "cc-by-nc-sa": the facet's own values
        return mine.id is None and mine.family == wanted_license.family
    return (label or "").strip().lower() == wanted.strip().lower()


def matches_family(label: str | None, family: str) -> bool:
    return normalize_license(label).family == family.strip().lower()


# License families by what they allow, for query understanding ("data I can use commercially").
# Commercial use: every family that allows it without a separate agreement; GPL-family and
# "other"/"unknown" are left out (copyleft terms on data are unclear, and unknown may forbid it).
COMMERCIAL_USE_FAMILIES = frozenset(
    {"cc0", "public-domain", "pddl", "cc-by", "cc-by-sa", "apache", "mit", "bsd", "isc", "unlicense", "odbl", "odc-by"}
    | {"cdla-permissive", "zlib", "wtfpl", "ecl", "bsl", "afl", "mpl", "artistic", "ms"}
)
NON_COMMERCIAL_FAMILIES = frozenset({"cc-by-nc", "cc-by-nc-sa", "cc-by-nc-nd"})
NO_DERIVATIVES_FAMILIES = frozenset({"cc-by-nd", "cc-by-nc-nd"})
SHARE_ALIKE_FAMILIES = frozenset({"cc-by-sa", "cc-by-nc-sa", "gpl", "agpl", "lgpl", "odbl", "cdla-sharing"})
PUBLIC_DOMAIN_FAMILIES = frozenset({"cc0", "public-domain", "pddl", "unlicense"})
RESPONSIBLE_USE_FAMILIES = frozenset({"openrail", "llama", "gemma"})


def what_it_allows(family: str) -> str:
    """What a license family lets a finder do, in one plain sentence (the dataset page's
    "license" line), read from the family sets above so the two never disagree."""
    if family in PUBLIC_DOMAIN_FAMILIES:
        return "No conditions: use, change and share it for any purpose, commercial use included."
    if family in NON_COMMERCIAL_FAMILIES:
        if family in NO_DERIVATIVES_FAMILIES:
            return "Non-commercial use only, shared unchanged, crediting the authors."
        if family in SHARE_ALIKE_FAMILIES:
            return "Non-commercial use only, crediting the authors; share changed versions under the same license."
        return "Non-commercial use only, crediting the authors."
    if family in NO_DERIVATIVES_FAMILIES:
        return "Use and share it unchanged, commercial use included, crediting the authors; changed versions may not be shared."
    if family in COMMERCIAL_USE_FAMILIES:
        if family in SHARE_ALIKE_FAMILIES:
            return "Use, change and share it, commercial use included, crediting the authors; share what you build from it under the same license."
        return "Use, change and share it for any purpose, commercial use included, crediting the authors."
    if family in SHARE_ALIKE_FAMILIES:
        return "Use and change it; whatever you distribute from it must carry the same license (copyleft)."
    if family in RESPONSIBLE_USE_FAMILIES:
        return "Use under the license's use restrictions: read its terms before you build on it."
    if family == UNKNOWN:
        return "No license stated: only the authors can say how it may be used."
    return "Its own terms: read them on the source page before you use it."
