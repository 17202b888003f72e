"""The words query understanding reads (search/query_understanding.py): the Hub's task categories
with the phrases people use for them, modalities, size categories and phrasings of sizes, licence
intents over the licence families of common/licenses.py, and the few language names langcodes
reads differently. Data only: the parser compiles it once at import.
"""

from __future__ import annotations

import re

from dataset_catalog.common import licenses

# The Hub's task categories, each with the phrases people use for it. A phrase marked narrow
# ("sentiment") is more specific than its category: it filters, and its words stay in the topic.
TASKS: dict[str, tuple[str, ...]] = {
    "token-classification": (
        "token classification",
        "named entity recognition",
        "named entities",
        "named entity",
        "entity recognition",
        "ner",
        "part of speech tagging",
        "part of speech",
        "parts of speech",
        "pos tagging",
        "sequence labeling",
        "sequence labelling",
        "tagging words",
        "tagging",
    ),
    "visual-question-answering": ("visual question answering", "vqa"),
    "table-question-answering": ("table question answering",),
    "question-answering": (
        "question answering",
        "answering questions",
        "answer questions",
        "reading comprehension",
        "qa",
    ),
    "text-classification": (
        "text classification",
        "classifying texts",
        "classifying text",
        "classify text",
        "document classification",
        "sentiment analysis",
        "sentiment",
    ),
    "translation": ("machine translation", "translation", "translating", "parallel corpus"),
    "summarization": ("summarization", "summarisation", "summarizing", "summarising", "summaries"),
    "text-generation": ("text generation", "generating text", "language modeling", "language modelling"),
    "automatic-speech-recognition": ("automatic speech recognition", "speech recognition", "asr", "speech to text"),
    "text-to-speech": ("text to speech", "tts", "speech synthesis"),
    "audio-classification": ("audio classification",),
    "image-classification": ("image classification", "classifying images"),
    "object-detection": ("object detection",),
    "image-segmentation": ("image segmentation", "semantic segmentation", "instance segmentation"),
    "image-to-text": ("image captioning", "image to text"),
    "text-to-image": ("text to image",),
    "fill-mask": ("fill mask", "masked language modeling", "masked language modelling"),
    "sentence-similarity": ("sentence similarity", "semantic similarity", "semantic textual similarity"),
    "multiple-choice": ("multiple choice",),
    "text-retrieval": ("text retrieval", "information retrieval", "document retrieval", "passage retrieval"),
    "time-series-forecasting": ("time series forecasting",),
    "tabular-classification": ("tabular classification",),
    "tabular-regression": ("tabular regression",),
    "video-classification": ("video classification",),
    "reinforcement-learning": ("reinforcement learning",),
}
NARROW = frozenset({"sentiment", "sentiment analysis", "named entity recognition", "named entities", "named entity"})
NARROW |= frozenset({"entity recognition", "ner", "part of speech", "parts of speech", "pos tagging", "vqa"})
NARROW |= frozenset({"semantic segmentation", "instance segmentation", "image captioning", "reading comprehension"})
LICENSE_INTENTS: tuple[tuple[str, str, frozenset[str], str], ...] = (
    # (pattern, value, families, label); the first that matches a span wins
    (
        r"non[\s-]?commercial(?:ly)?(?:\s+(?:use|only|licen[cs]es?))?",
        "non-commercial",
        licenses.NON_COMMERCIAL_FAMILIES,
        "non-commercial licence",
    ),
    (
        r"no[\s-]?deriv(?:ative)?s?(?:\s+licen[cs]es?)?",
        "no-derivatives",
        licenses.NO_DERIVATIVES_FAMILIES,
        "no-derivatives licence",
    ),
    (
        r"(?:with\s+(?:an?\s+)?)?(?:share[\s-]?alike|copyleft)(?:\s+licen[cs]es?)?",
        "share-alike",
        licenses.SHARE_ALIKE_FAMILIES,
        "share-alike licence",
    ),
    (r"(?:in\s+the\s+)?public[\s-]domain", "public-domain", licenses.PUBLIC_DOMAIN_FAMILIES, "public domain"),
    (
        r"(?:(?:that|which)\s+)?(?:(?:i|we|you)\s+)?(?:(?:can|could|may)\s+)?(?:be\s+)?use[ds]?\s+(?:it\s+|them\s+)?"
        r"commercially|commercially\s+usable|(?:for\s+)?commercial(?:\s+(?:use|usage|purposes|applications|products))?"
        r"|(?:(?:with|under)\s+(?:an?\s+)?)?(?:permissive(?:ly)?|open)[\s-]+licen[cs](?:e|ed)",
        "commercial",
        licenses.COMMERCIAL_USE_FAMILIES,
        "licence allows commercial use",
    ),
)
NUMBER = r"(\d[\d,]*(?:\.\d+)?|an?|one)\s*(k|m|b|thousand|million|billion)?"
UNITS = r"(?:\s+(?:examples|samples|rows|records|instances|items|sentences|documents|pairs|utterances|images|entries))?"
MORE = r"(?:over|more\s+than|above|at\s+least|greater\s+than|bigger\s+than|larger\s+than|exceeding|>=?)"
LESS = r"(?:under|fewer\s+than|less\s+than|below|at\s+most|smaller\s+than|up\s+to|<=?)"
SIZE_PATTERN = re.compile(
    rf"\b(?:(?:with\s+)?(?P<more>{MORE})|(?:with\s+)?(?P<less>{LESS}))\s+{NUMBER}{UNITS}\b"
    rf"|\b(?P<millions>millions|billions)\s+of{UNITS}\b",
    re.I,
)
VAGUE_SIZES = {
    "small": ("max", 1e4),
    "tiny": ("max", 1e4),
    "large": ("min", 1e5),
    "big": ("min", 1e5),
    "huge": ("min", 1e6),
    "massive": ("min", 1e6),
    "large-scale": ("min", 1e5),
}
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "billion": 1e9}
# Names langcodes reads differently or not at all.
LANGUAGE_ALIASES = {"bengali": "bn", "farsi": "fa", "mandarin": "zh", "cantonese": "zh", "flemish": "nl"}
LANGUAGE_ALIASES |= {"castilian": "es", "slovene": "sl", "sinhalese": "si", "panjabi": "pa", "uighur": "ug"}
# Language names that are also everyday English words: read only when capitalised.
HOMOGRAPHS = frozenset({"afar", "ewe", "ido", "lao", "twi", "komi", "pali", "kongo", "venda", "ganda", "male"})
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
LANGUAGE_CODE = re.compile(r"\b(?:lang(?:uage)?\s*[:=]\s*|in\s+)([A-Za-z]{2,3})\b")
SOURCE_PREFIX = r"(?:(?:on|from|in|at|via)\s+)?(?:the\s+)?"
# Words a constraint leaves behind that carry no topic ("dataset in" of "dataset in German").
FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "in",
        "on",
        "of",
        "for",
        "from",
        "with",
        "under",
        "dataset",
        "datasets",
        "data",
        "corpus",
        "corpora",
        "set",
        "i",
        "can",
    ]
)
FILLER |= frozenset(["that", "which", "is", "are", "use", "language", "languages", "examples", "written", "or"])
