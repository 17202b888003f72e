"""Dataset names reduced to what tells datasets apart, for duplicate links and their blocking.

"IMDB Dataset (CSV)", "imdb" and "IMDb" share the name `imdb`; "Fashion-MNIST" and "MNIST",
"CIFAR-10" and "CIFAR-100", "SQuAD" and "SQuAD 2.0" do not: every token but filler words and
size counts ("50K") tells datasets apart, so a name matches only when nothing else is left over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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


def name_phrase(name: str | None) -> tuple[str, ...]:
    """The tokens of `name` that tell datasets apart, in order (filler words and "50K"-style sizes
    dropped, "v2" and "2.0" written "2"); the order says which word leads ("Fashion MNIST")."""
    if not name:
        return ()
    # No camel-case split ("SQuAD" is one word); "FashionMNIST" still meets "Fashion MNIST" in names_agree.
    tokens: dict[str, None] = {}
    for token in _TOKEN.findall(name.lower().replace("_", " ")):
        if token in FILLER or _SIZE_COUNT.fullmatch(token):
            continue
        if token[0] == "v" and token[1:2].isdigit():
            token = token[1:]
        tokens[token.removesuffix(".0") if token[0].isdigit() else token] = None
    return tuple(tokens)


def name_tokens(name: str | None) -> frozenset[str]:
    """The tokens of `name` that tell datasets apart, as a set."""
    return frozenset(name_phrase(name))


def row_phrases(title: str | None, external_id: str | None) -> set[tuple[str, ...]]:
    """A row's names in order: its title's and its id's last part's ("zalando-research/fashionmnist"
    -> fashionmnist), the latter left out when it is a bare number (an OpenML id)."""
    phrases = {name_phrase(title)}
    slug = (external_id or "").rsplit("/", 1)[-1]
    if slug and not slug.isdigit():
        phrases.add(name_phrase(slug.replace("-", " ")))
    return {p for p in phrases if p}


def row_names(title: str | None, external_id: str | None) -> set[frozenset[str]]:
    """A row's names as token sets (row_phrases without the order)."""
    return {frozenset(p) for p in row_phrases(title, external_id)}


def name_key(tokens: Iterable[str]) -> str:
    """One string per token set, for blocking: rows that share a key are compared."""
    return " ".join(sorted(tokens))


def names_agree(a: Iterable[Iterable[str]], b: Iterable[Iterable[str]]) -> bool:
    """Whether some name of one row is some name of the other, or one's tokens run together are
    the other's ("fashionmnist" and "fashion mnist")."""
    return bool({"".join(sorted(x)) for x in a} & {"".join(sorted(y)) for y in b})


def text_words(*texts: str | None, limit: int | None = None) -> frozenset[str]:
    """The lowercase words of `texts` (the first `limit` distinct ones, in order): a name's extra
    words found here describe, not distinguish."""
    found: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(text.lower()) if text else ():
            found[word] = None
            if limit is not None and len(found) >= limit:
                return frozenset(found)
    return frozenset(found)


# Words that, added to a name, name a part or a variant of the data rather than describe it.
VARIANT_WORDS = frozenset(
    ["subset", "sample", "small", "mini", "tiny", "sub", "bin", "binarized", "binary", "without", "hq", "lite"]
    + ["corrupted", "balanced", "augmented", "translated", "synthetic", "noisy", "filtered", "reduced", "full"]
)
DESCRIPTIVE_TITLE = 4  # tokens past which a name is a description ("MedMNIST v2: a large-scale ... 2D and 3D")
_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)*")


def _is_version(token: str) -> bool:
    """ "2", "1.1", "2.1": a version or a variant number; "784" or "1999" is a count or a year."""
    return bool(_VERSION.fullmatch(token)) or (token.isdigit() and int(token) < 100)


def _abbreviates(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Whether `short` is one word that abbreviates `long`: its initials ("har": Human Activity
    Recognition, "wdbc": Wisconsin Diagnostic Breast Cancer in any order), initials before its
    last word ("kmnist": Kuzushiji MNIST), or words of it run together ("covertype")."""
    if len(short) != 1 or len(long) < 2 or not short[0].isalpha() or len(short[0]) < 3:
        return False
    word, initials = short[0], "".join(t[0] for t in long)
    if initials.startswith(word) or sorted(word) == sorted(initials):
        return True
    if word == initials[:-1] + long[-1]:
        return True
    return any(word == "".join(long[i:j]) for i in range(len(long)) for j in range(i + 2, len(long) + 1))


def _phrase_relation(x: tuple[str, ...], x_words: frozenset[str], y: tuple[str, ...], y_words: frozenset[str]) -> str:
    sx, sy = set(x), set(y)
    if sx < sy or sy < sx:
        short, long, short_words = (x, y, x_words) if sx < sy else (y, x, y_words)
        extras = set(long) - set(short)
        if len(long) > DESCRIPTIVE_TITLE:  # a sentence of a title describes: its numbers are not versions
            return "near" if long[0] in short or all(t in short_words for t in extras) else "unrelated"
        if any(_is_version(t) or t in VARIANT_WORDS for t in extras):
            return "conflict"  # "SQuAD 2", "iris bin", "OpenWebText 10k subset"
        if long[0] in short or all(t in short_words for t in extras):
            return "near"  # "Adult Census Income", "Iris Species", "MNIST handwritten digits"
        return "conflict"  # a leading word the other row never uses: "Fashion MNIST", "Spaceship Titanic"
    if sx & sy:
        # Siblings differing by one word each: "heart-c" / "heart-h", "Wine Quality red / white".
        return "conflict" if len(sx - sy) == 1 and len(sy - sx) == 1 else "unrelated"
    return "near" if _abbreviates(x, y) or _abbreviates(y, x) else "unrelated"


def name_relation(
    a_names: Iterable[tuple[str, ...]],
    a_words: frozenset[str],
    b_names: Iterable[tuple[str, ...]],
    b_words: frozenset[str],
) -> str | None:
    """How two rows' names relate: "same"; "near" (one adds describing words the other row uses
    itself, or abbreviates the other); "conflict" (a word tells them apart: a version, a variant, a
    leading modifier, a sibling's last word); "unrelated" (nothing in common, e.g. a slug and a
    long title); None when either row has no name. A conflict in any pair of names outweighs a
    near name."""
    a_names, b_names = list(a_names), list(b_names)
    if not a_names or not b_names:
        return None
    if names_agree(a_names, b_names):
        return "same"
    found = {_phrase_relation(x, a_words, y, b_words) for x in a_names for y in b_names}
    return "conflict" if "conflict" in found else "near" if "near" in found else "unrelated"
