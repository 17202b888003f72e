"""Readable plain text from descriptions written in markdown or HTML by strangers.

Dataset cards are markdown with HTML mixed in, YAML front matter, code blocks, tables and
template boilerplate ("[More Information Needed]"). Snippets and page text want the prose:
markup is removed (its text kept), code and tables dropped, entities decoded. The result is
text, never markup: whoever shows it escapes it.
"""

from __future__ import annotations

import html
import re

MAX_INPUT_CHARS = 20_000

_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---\s*(\n|\Z)", re.S)
_FENCED_CODE = re.compile(r"^[ \t]*(```|~~~).*?(^[ \t]*\1[^\n]*$|\Z)", re.S | re.M)
_HTML_DROPPED = re.compile(r"<(script|style|pre|code|svg|table)\b.*?(</\1\s*>|\Z)", re.S | re.I)
_HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.S)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<![^<>]*>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_LINK_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M)
_TABLE_LINE = re.compile(r"^\s*\|.*$", re.M)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+.*$", re.M)
_SETEXT_RULE = re.compile(r"^\s*([-=*_]\s*){3,}$", re.M)
_QUOTE_OR_LIST = re.compile(r"^\s*(>\s*)+|^\s*([-*+]|\d{1,3}[.)])\s+", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_BOILERPLATE = re.compile(
    r"\[?\s*(more information needed|needs more information|information needed|to be added|todo|tbd|n/a)\s*\]?",
    re.I,
)
_BARE_BOILERPLATE_LINE = re.compile(r"^\s*(more information needed|needs more information)\s*[.:]?\s*$", re.I | re.M)
# "- **Homepage:** [More Information Needed]": a template field nobody filled in.
_EMPTY_FIELD_LINE = re.compile(
    r"^[^\n]{0,80}:[*_ ]*\[?\s*(more information needed|needs more information)\s*\]?\s*$", re.I | re.M
)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


# In order: blocks that are not prose go first (their insides would otherwise survive as text),
# then markup is unwrapped to its text. Entities are decoded after, and what they decoded into
# is stripped again (&lt;b&gt; is markup too).
_MARKUP_STEPS = (
    (_FRONT_MATTER, ""),
    (_FENCED_CODE, "\n"),
    (_EMPTY_FIELD_LINE, ""),
    (_HTML_COMMENT, " "),
    (_HTML_DROPPED, " "),
    (_HTML_TAG, " "),
    (_IMAGE, " "),
    (_LINK, r"\1"),
    (_REFERENCE_LINK, r"\1"),
    (_LINK_DEFINITION, ""),
    (_TABLE_LINE, ""),
    (_HEADING, "\n"),
    (_SETEXT_RULE, "\n"),
    (_QUOTE_OR_LIST, ""),
    (_INLINE_CODE, r"\1"),
    (_EMPHASIS, r"\2"),
)
_DECODED_STEPS = ((_HTML_TAG, " "), (_BOILERPLATE, " "), (_BARE_BOILERPLATE_LINE, ""))


def markup_to_text(value: str | None, max_chars: int = MAX_INPUT_CHARS) -> str:
    """Paragraphs of plain text (separated by blank lines) from markdown/HTML `value`."""
    text = (value or "")[:max_chars]
    if not text.strip():
        return ""
    for pattern, replacement in _MARKUP_STEPS:
        text = pattern.sub(replacement, text)
    text = html.unescape(text)
    for pattern, replacement in _DECODED_STEPS:
        text = pattern.sub(replacement, text)
    paragraphs = [" ".join(_SPACES.sub(" ", p).split()) for p in _BLANK_LINES.split(text)]
    return "\n\n".join(p for p in paragraphs if any(c.isalnum() for c in p))


def plain_summary(value: str | None, max_chars: int = 5_000) -> str:
    """The text as one line (whitespace collapsed): what snippets are cut from."""
    return " ".join(markup_to_text(value, max_chars).split())
