"""Snippets: a short piece of a dataset's clean description around the query's words, with
the spans of those words, so the web page can mark them and the CLI can bold them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dataset_catalog.common.plain_text import plain_summary

SNIPPET_CHARS = 200
_SUFFIXES = ("ings", "ing", "ies", "es", "s", "ed")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)  # [start, end) character spans of `text`

    def segments(self) -> list[tuple[str, bool]]:
        """(piece, is_match) in order: what a renderer walks."""
        out, at = [], 0
        for start, end in self.highlights:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out

    def to_dict(self) -> dict:
        return {"text": self.text, "highlights": [list(h) for h in self.highlights]}


def stem(token: str) -> str:
    """A crude stem so "images" marks "image" and "translation" marks "translations"."""
    token = token.lower()
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def match_spans(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    """Spans of the words of `text` that start with a stem of a query token (3+ letters)."""
    stems = tuple({stem(t) for t in tokens if len(t) >= 3})
    if not stems:
        return []
    return [m.span() for m in _WORD.finditer(text) if m.group().lower().startswith(stems)]


def make_snippet(description: str | None, tokens: list[str], width: int = SNIPPET_CHARS) -> Snippet:
    """The `width` characters of clean text around the first query word found (else its start)."""
    text = plain_summary(description)
    spans = match_spans(text, tokens)
    if len(text) > width:
        start = 0
        if spans:
            start = max(0, spans[0][0] - width // 4)
            space = text.rfind(" ", 0, start + 1)
            start = space + 1 if space > start - 20 and space >= 0 else start
        end = min(len(text), start + width)
        if end < len(text):
            space = text.rfind(" ", start + width // 2, end)
            end = space if space > 0 else end
        prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
        piece = text[start:end]
        spans = [(a - start + len(prefix), b - start + len(prefix)) for a, b in spans if a >= start and b <= end]
        text = prefix + piece + suffix
    return Snippet(text, spans)
