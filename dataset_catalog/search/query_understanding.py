"""Query understanding: the constraints a person names in words ("question answering dataset in
German", "over a million examples", "data I can use commercially", "on Kaggle"), read into
filters and boosts, and the topic left to match.

- **Explicit** constraints (a language, a named task, a number of examples, a licence intent, a
  source) become filters; their words are removed from the topic, so "in German" does not also
  pull in datasets *about* Germany.
- **Vague** ones (a modality such as "audio", "images", "tabular"; "small", "large"; a second
  language) are boosts: datasets meeting them rise, the others stay; their words stay in the topic.

The vocabularies are the catalog's own: languages through common/languages.py (langcodes),
licence families through common/licenses.py, sources through common/sources.py, tasks as the
Hub's task categories (the values the catalog stores and filters by). Everything is a
precompiled regular expression or a cached lookup: no model call, microseconds per query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import langcodes

from dataset_catalog.catalog.search_queries import SearchFilters, normalize_label
from dataset_catalog.common import licenses
from dataset_catalog.common.languages import language_code, language_name
from dataset_catalog.common.modalities import MODALITIES
from dataset_catalog.common.sizes import SIZE_CATEGORIES
from dataset_catalog.common.sources import source_aliases, source_name
from dataset_catalog.search.query_vocabulary import (
    FILLER,
    HOMOGRAPHS,
    LANGUAGE_ALIASES,
    LANGUAGE_CODE,
    LICENSE_INTENTS,
    MULTIPLIERS,
    NARROW,
    SIZE_PATTERN,
    SOURCE_PREFIX,
    TASKS,
    VAGUE_SIZES,
    WORD,
)

FILTER, BOOST = "filter", "boost"


def _phrase_pattern(phrase: str) -> str:
    return r"[\s-]+".join(re.escape(word) for word in phrase.split())


def _alternation(phrases: dict[str, Any]) -> re.Pattern[str]:
    ordered = sorted(
        phrases, key=len, reverse=True
    )  # longest first: "visual question answering" before "question answering"
    return re.compile(r"\b(?:" + "|".join(f"({_phrase_pattern(p)})" for p in ordered) + r")s?\b", re.I), ordered


_TASK_PHRASES = {phrase: task for task, phrases in TASKS.items() for phrase in phrases}
_TASK_PATTERN, _TASK_ORDER = _alternation(_TASK_PHRASES)
_MODALITY_PHRASES = {word: name for name, (words, _) in MODALITIES.items() for word in words}
_MODALITY_PATTERN, _MODALITY_ORDER = _alternation(_MODALITY_PHRASES)
_LICENSE_PATTERNS = tuple((re.compile(rf"\b(?:{p})\b", re.I), v, f, label) for p, v, f, label in LICENSE_INTENTS)
_VAGUE_SIZE_PATTERN = re.compile(r"\b(" + "|".join(map(re.escape, VAGUE_SIZES)) + r")\b", re.I)


@dataclass(frozen=True)
class Constraint:
    """One constraint read from the query."""

    kind: str  # language, task, modality, size, license, source
    value: str  # what it selects: "de", "question-answering", "commercial", "kaggle", ">=1M"
    label: str  # what a person reads: "German", "question answering"
    text: str  # the words of the query it was read from
    applied: str = FILTER  # filter or boost
    tasks: frozenset[str] = frozenset()  # modality: its task categories
    sizes: tuple[str, ...] = ()  # size: the Hub size categories it admits
    families: frozenset[str] = frozenset()  # license: the families it admits

    @property
    def key(self) -> str:
        """What turns it off (`ignore=language:de`)."""
        return f"{self.kind}:{self.value}"

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether a catalog row (CANDIDATE_COLUMNS) meets it: what a boost rewards."""
        if self.kind == "language":
            return any(language_code(v) == self.value for v in _strings(row.get("languages")))
        if self.kind == "task":
            return self.value in {normalize_label(t) for t in _strings(row.get("task_categories"))}
        if self.kind == "modality":
            return bool(self.tasks & {normalize_label(t) for t in _strings(row.get("task_categories"))})
        if self.kind == "size":
            return row.get("size_category") in self.sizes
        if self.kind == "license":
            return licenses.normalize_license(row.get("license")).family in self.families
        return row.get("source") == self.value

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "value": self.value, "label": self.label, "text": self.text, "applied": self.applied}


@dataclass(frozen=True)
class Interpretation:
    """What was read from a query, and how search applies it."""

    query: str
    topic: str  # the query without the words its filters consumed; the query itself if nothing is left
    constraints: tuple[Constraint, ...] = ()
    ignored: tuple[str, ...] = ()  # keys the person turned off
    notes: tuple[str, ...] = field(default=())

    @property
    def filters(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.applied == FILTER)

    @property
    def boosts(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.applied == BOOST)

    def search_filters(self, given: SearchFilters) -> SearchFilters:
        """`given` with the understood filters added where the person set none of that kind."""
        changes: dict[str, Any] = {}
        for c in self.filters:
            if c.kind == "language" and not given.language:
                changes.setdefault("language", c.value)
            elif c.kind == "task" and not given.task:
                changes.setdefault("task", c.value)
            elif c.kind == "source" and not given.source:
                changes.setdefault("source", c.value)
            elif c.kind == "license" and not (given.license or given.license_family or given.license_families):
                changes.setdefault("license_families", tuple(sorted(c.families)))
            elif c.kind == "size" and not given.size_categories:
                changes.setdefault("size_categories", c.sizes)
        return replace(given, **changes)

    def as_boosts(self, note: str) -> Interpretation:
        """The same reading with every filter applied as a boost instead (and the topic restored)."""
        softened = tuple(replace(c, applied=BOOST) for c in self.constraints)
        return replace(self, topic=self.query, constraints=softened, notes=(*self.notes, note))

    def summary(self) -> str:
        """'language German (filter) · task question answering (filter)'."""
        return " · ".join(f"{c.kind} {c.label} ({c.applied})" for c in self.constraints)

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "constraints": [c.to_dict() for c in self.constraints],
            "ignored": list(self.ignored),
            "notes": list(self.notes),
        }


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@lru_cache(maxsize=8192)
def _language_of_word(word: str) -> str | None:
    """The ISO code a word names as a language (English name, adjective or the language's own
    name: "German", "german", "Deutsch"), or None. langcodes' name search is fuzzy ("arbitrary"
    finds Arabic), so the word must be the language's name, not just close to it."""
    lowered = word.lower()
    if lowered in LANGUAGE_ALIASES:
        return LANGUAGE_ALIASES[lowered]
    if len(lowered) < 3 or (lowered in HOMOGRAPHS | FILLER and not word[0].isupper()):
        return None
    try:
        found = langcodes.find(word)
    except (LookupError, ValueError):
        return None
    code = language_code(found.language)
    if code is None or (len(code) > 2 and not word[0].isupper()):  # "the" is the autonym of a language of Togo
        return None
    try:
        autonym = found.autonym().lower()
    except Exception:  # a library failure on odd input means "not a language", never a crash
        autonym = ""
    return code if lowered in (language_name(code).lower(), autonym) else None


def _number(text: str, unit: str | None) -> float:
    value = 1.0 if text.lower() in ("a", "an", "one") else float(text.replace(",", ""))
    return value * MULTIPLIERS.get((unit or "").lower(), 1.0)


def _size_constraint(bound: str, count: float, text: str, applied: str) -> Constraint:
    if bound == "min":
        sizes = tuple(name for name, _, high in SIZE_CATEGORIES if high > count)
        label = f"over {_human(count)} examples"
    else:
        sizes = tuple(name for name, low, _ in SIZE_CATEGORIES if low < count)
        label = f"under {_human(count)} examples"
    return Constraint("size", f"{'>' if bound == 'min' else '<'}{_human(count)}", label, text, applied, sizes=sizes)


def _human(count: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:g}{unit}"
    return f"{count:g}"


class _Reader:
    """Spans of the query already read, so one word feeds one constraint."""

    def __init__(self, query: str):
        self.query = query
        self.taken: list[tuple[int, int]] = []
        self.consumed: list[tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def take(self, match: re.Match[str], consume: bool, group: int = 0) -> str:
        span = match.span(group)
        self.taken.append(span)
        if consume:
            self.consumed.append(span)
        return match.group(group)

    def topic(self) -> str:
        text, last = [], 0
        for start, end in sorted(self.consumed):
            text.append(self.query[last:start])
            last = max(last, end)
        text.append(self.query[last:])
        words = " ".join(" ".join(text).split())
        return words if any(w.lower() not in FILLER for w in WORD.findall(words)) else ""


def understand(query: str, ignore: tuple[str, ...] | list[str] = ()) -> Interpretation:
    """Read the constraints of `query`; those whose key (or kind) is in `ignore` are left out
    and their words stay in the topic."""
    ignored = tuple(dict.fromkeys(i.strip() for i in ignore if i and i.strip()))
    reader = _Reader(query)
    found: list[Constraint] = []

    def keep(c: Constraint, match: re.Match[str], group: int = 0) -> None:
        if c.key in ignored or c.kind in ignored:
            return  # turned off: its words stay in the topic
        reader.take(match, consume=c.applied == FILTER, group=group)
        if all(f.key != c.key for f in found):
            found.append(c)

    for pattern, value, families, label in _LICENSE_PATTERNS:
        for m in pattern.finditer(query):
            if reader.free(*m.span()):
                keep(Constraint("license", value, label, m.group(0), FILTER, families=families), m)
    for m in SIZE_PATTERN.finditer(query):
        if not reader.free(*m.span()):
            continue
        if m.group("millions"):
            count = 1e6 if m.group("millions").lower() == "millions" else 1e9
            keep(_size_constraint("min", count, m.group(0), FILTER), m)
        else:
            count = _number(m.group(3), m.group(4))
            keep(_size_constraint("min" if m.group("more") else "max", count, m.group(0), FILTER), m)
    if not any(c.kind == "size" for c in found):
        for m in _VAGUE_SIZE_PATTERN.finditer(query):
            bound, count = VAGUE_SIZES[m.group(1).lower()]
            keep(replace(_size_constraint(bound, count, m.group(0), BOOST), label=m.group(1).lower()), m)
            break
    for m in _TASK_PATTERN.finditer(query):
        phrase = _TASK_ORDER[m.lastindex - 1]
        if reader.free(*m.span()) and (phrase not in ("qa", "ner", "asr", "tts", "vqa") or m.group(0).isupper()):
            task = _TASK_PHRASES[phrase]
            second = any(f.kind == "task" and f.value != task for f in found)  # one task filters, others boost
            c = Constraint("task", task, task.replace("-", " "), m.group(0), BOOST if second else FILTER)
            if phrase in NARROW:
                if c.key not in ignored and c.kind not in ignored and all(f.key != c.key for f in found):
                    found.append(c)
                reader.taken.append(m.span())  # read, but its words still describe the topic
            else:
                keep(c, m)
    for m in _MODALITY_PATTERN.finditer(query):
        if reader.free(*m.span()):
            name = _MODALITY_PHRASES[_MODALITY_ORDER[m.lastindex - 1]]
            keep(Constraint("modality", name, name, m.group(0), BOOST, tasks=MODALITIES[name][1]), m)
    _read_sources(query, reader, keep)
    _read_languages(query, reader, keep, found)
    topic = reader.topic()
    return Interpretation(query=query, topic=topic or query, constraints=tuple(found), ignored=ignored)


@lru_cache(maxsize=1)
def _source_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    names = source_aliases()
    ordered = sorted(names, key=len, reverse=True)
    body = "|".join(_phrase_pattern(n) for n in ordered)
    return re.compile(rf"\b{SOURCE_PREFIX}({body})\b", re.I), names


def _read_sources(query: str, reader: _Reader, keep) -> None:
    pattern, names = _source_pattern()
    for m in pattern.finditer(query):
        if reader.free(*m.span()):
            source = names[" ".join(m.group(1).lower().replace("-", " ").split())] if m.group(1) else None
            if source:
                keep(Constraint("source", source, source_name(source), m.group(0)), m)


def _read_languages(query: str, reader: _Reader, keep, found: list[Constraint]) -> None:
    for m in LANGUAGE_CODE.finditer(query):
        code = language_code(m.group(1)) if (m.group(1).isupper() or "lang" in m.group(0).lower()) else None
        if code and reader.free(*m.span()):
            applied = BOOST if any(c.kind == "language" for c in found) else FILTER
            keep(Constraint("language", code, language_name(code), m.group(0), applied), m)
    for m in re.finditer(r"\b(?:in\s+)?(" + WORD.pattern + r")(?:[\s-]+language)?\b", query):
        word = m.group(1)
        if not reader.free(*m.span(1)):
            continue
        code = _language_of_word(word)
        if code:
            applied = BOOST if any(c.kind == "language" and c.value != code for c in found) else FILTER
            keep(Constraint("language", code, language_name(code), m.group(0), applied), m)
