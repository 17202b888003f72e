"""Dataset names reduced to what tells datasets apart, for duplicate links and their blocking.

"IMDB Dataset (CSV)", "imdb" and "IMDb" share the name `imdb`; "Fashion-MNIST" and "MNIST",
"CIFAR-10" and "CIFAR-100", "SQuAD" and "SQuAD 2.0" do not: every token but filler words and
size counts ("50K") tells datasets apart, so a name matches only when nothing else is left over.
"""

from __future__ import annotations

import re

# Words a title or slug carries whichever copy it is: format, packaging, the word "dataset".
FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "in",
        "on",
        "with",
        "from",
        "by",
        "to",
        "dataset",
        "datasets",
        "data",
        "set",
        "csv",
        "json",
        "parquet",
        "arff",
        "idx",
        "txt",
        "zip",
        "format",
        "formatted",
        "files",
        "file",
        "version",
        "original",
        "raw",
        "cleaned",
        "clean",
        "copy",
        "mirror",
        "uci",
        "ml",
        "machine",
        "learning",
        "repository",
        "kaggle",
        "openml",
        "hf",
        "hugging",
        "face",
        "huggingface",
        "zenodo",
        "database",
        "db",
        "collection",
        "public",
    ]
)
_TOKEN = re.compile(r"v\d+(?:\.\d+)*|\d+(?:\.\d+)*[km]?|[a-z]+")
_WORD = re.compile(r"[a-z0-9]+")
_SIZE_COUNT = re.compile(r"\d+[km]")


def name_tokens(name: str | None) -> frozenset[str]:
    """The tokens of `name` that tell datasets apart (filler words and "50K"-style sizes dropped)."""
    if not name:
        return frozenset()
    # No camel-case split ("SQuAD" is one word); "FashionMNIST" still meets "Fashion MNIST" in names_agree.
    tokens = set()
    for token in _TOKEN.findall(name.lower().replace("_", " ")):
        if token in FILLER or _SIZE_COUNT.fullmatch(token):
            continue
        if token[0] == "v" and token[1:2].isdigit():
            token = token[1:]
        tokens.add(token.removesuffix(".0") if token[0].isdigit() else token)  # "v2", "2.0" -> "2"
    return frozenset(tokens)


def row_names(title: str | None, external_id: str | None) -> set[frozenset[str]]:
    """A row's names: its title's tokens and its id's last part's ("zalando-research/fashionmnist"
    -> fashionmnist), the latter left out when it is a bare number (an OpenML id)."""
    names = {name_tokens(title)}
    slug = (external_id or "").rsplit("/", 1)[-1]
    if slug and not slug.isdigit():
        names.add(name_tokens(slug.replace("-", " ")))
    return {n for n in names if n}


def name_key(tokens: frozenset[str]) -> str:
    """One string per token set, for blocking: rows that share a key are compared."""
    return " ".join(sorted(tokens))


def names_agree(a: set[frozenset[str]], b: set[frozenset[str]]) -> bool:
    """Whether some name of one row is some name of the other, or one's tokens run together are
    the other's ("fashionmnist" and "fashion mnist")."""
    return bool({"".join(sorted(x)) for x in a} & {"".join(sorted(y)) for y in b})


def text_words(*texts: str | None) -> frozenset[str]:
    """The lowercase words of `texts`: a name's extra words found here describe, not distinguish."""
    return frozenset(w for t in texts if t for w in _WORD.findall(t.lower()))
