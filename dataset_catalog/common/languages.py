"""Languages as ISO 639 codes in the catalog, as names for people ("German", not "de").

Sources tag languages as `de`, `deu`, `de-DE`, `German` or `code`; the catalog stores the
language's shortest ISO 639 code (639-1 where one exists, else 639-3), region and script
dropped, so one filter value finds them all. Values that name no language (`code`,
`multilingual`, `und`) are left out. `langcodes` holds the vocabularies.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import langcodes

from dataset_catalog.common.cleaning import has_control_characters

NOT_LANGUAGES = frozenset({"und", "zxx", "mul", "mis", "multilingual", "code", "other", "unknown", "none"})


@lru_cache(maxsize=4096)
def language_code(value: str | None) -> str | None:
    """The ISO 639 code `value` (a code, a tag or an English/native name) stands for, or None
    ("unknown"): for text naming no language, and for any failure of the language library."""
    text = (value or "").strip().replace("_", "-")
    if not text or len(text) > 64 or text.lower() in NOT_LANGUAGES:
        return None
    if has_control_characters(text):
        return None  # never handed to langcodes: its C code reads past a NUL (UnicodeDecodeError, or worse)
    try:
        code = _iso_code(text)
    except Exception:  # a library failure on odd input means "no language we know", never a crash
        return None
    if not code or code in NOT_LANGUAGES:
        return None
    return code


def _iso_code(text: str) -> str | None:
    try:
        language = langcodes.Language.get(langcodes.standardize_tag(text))
        if not language.is_valid() or not language.language:
            raise LookupError(text)
    except (ValueError, LookupError):
        try:
            language = langcodes.find(text)  # a language name: "German", "Deutsch"
        except LookupError:
            return None
    return language.language


def normalize_languages(values: Iterable[str] | None) -> list[str]:
    """Distinct ISO codes of `values`, order kept; values naming no language are dropped."""
    codes: dict[str, None] = {}
    for value in values or ():
        code = language_code(value) if isinstance(value, str) else None
        if code:
            codes.setdefault(code, None)
    return list(codes)


@lru_cache(maxsize=4096)
def language_name(code: str) -> str:
    """ "German" for "de"; an unknown code is shown as given."""
    if has_control_characters(code):
        return code
    try:
        language = langcodes.Language.get(code)
        name = language.display_name()
    except Exception:  # as language_code: odd input is shown as given, never a crash
        return code
    return code if name.startswith("Unknown language") else name
