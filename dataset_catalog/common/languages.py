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

NOT_LANGUAGES = frozenset({"und", "zxx", "mul", "mis", "multilingual", "code", "other", "unknown", "none"})


@lru_cache(maxsize=4096)
def language_code(value: str | None) -> str | None:
    """The ISO 639 code `value` (a code, a tag or an English/native name) stands for, or None."""
    text = (value or "").strip().replace("_", "-")
    if not text or len(text) > 64 or text.lower() in NOT_LANGUAGES:
        return None
    try:
        language = langcodes.Language.get(langcodes.standardize_tag(text))
        if not language.is_valid() or not language.language:
            raise LookupError(text)
    except (ValueError, LookupError):
        try:
            language = langcodes.find(text)  # a language name: "German", "Deutsch"
        except LookupError:
            return None
    code = language.language
    if not code or code in NOT_LANGUAGES:
        return None
    return code


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
    try:
        language = langcodes.Language.get(code)
        name = language.display_name()
    except ValueError:
        return code
    return code if name.startswith("Unknown language") else name
