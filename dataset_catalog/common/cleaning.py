"""Tolerant coercion of untrusted source values into what the catalog stores."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

MAX_TEXT_CHARS = 20_000  # a description longer than this is cut: search and UI gain nothing past it
MAX_META_TEXT_CHARS = 2_000
# C0 and C1 controls (NUL, ESC, newline, DEL, ...) and lone surrogates: never part of a label.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a control character or a lone surrogate (what user input such as a
    filter is refused for: C libraries stop at NUL or read past it, terminals obey ESC)."""
    return _CONTROL_CHARACTERS.search(value) is not None


def clean_text(value: Any, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """A str without NUL bytes or lone surrogates, at most `max_chars` long; None for non-text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    # PostgreSQL rejects lone surrogates (invalid UTF-8 decoded with surrogateescape, broken JSON).
    # isascii() is a flag read: ASCII text, the usual case, has none and skips the round trip.
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    value = value.strip()
    return value[:max_chars] if value else None


def clean_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return clean_int(float(value.strip().replace(",", "")))
        except ValueError:
            return None
    return None


def clean_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def clean_str_list(value: Any, max_items: int = 500, max_chars: int = 256) -> list[str]:
    """A list of distinct non-empty strings, order kept; a lone string becomes a one-item list."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    if len(value) <= max_items:
        try:
            joined = "".join(value)  # TypeError unless every item is a str
        except TypeError:
            joined = None
        # Fast path, the usual clean tag list (isprintable is False for NUL and other controls).
        if (
            joined is not None
            and joined.isprintable()
            and "" not in value
            and list(map(str.strip, value)) == value  # what clean_text would keep as is
            and (len(joined) <= max_chars or max(map(len, value)) <= max_chars)
        ):
            return list(dict.fromkeys(value))
    seen: dict[str, None] = {}
    for item in value:
        text = clean_text(item, max_chars)
        if text:
            seen.setdefault(text, None)
        if len(seen) >= max_items:
            break
    return list(seen)


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO-8601 text (or a datetime); None if it can't be read."""
    if type(value) is str:
        try:  # fast path: the sources' usual form ("2025-06-01T00:00:00.000Z"), read by 3.11+ as is
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is UTC:
                return parsed
        except ValueError:
            pass
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def clean_json(value: Any, max_chars: int = MAX_META_TEXT_CHARS, depth: int = 0) -> Any:
    """A JSON-safe copy with strings cleaned and cut, so raw payloads can be stored as-is."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return clean_text(value, max_chars) or ""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(k), 256) or "": clean_json(v, max_chars, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v, max_chars, depth + 1) for v in value[:1000]]
    return clean_text(str(value), max_chars)
