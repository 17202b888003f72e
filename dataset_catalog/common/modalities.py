"""One modality vocabulary: which tasks and file formats say a dataset is text, image, audio,
tabular or video. Query understanding reads the phrases, the modality facet and filter the rest."""

from __future__ import annotations

# Modalities (the Hub's modality tags) as the task categories that carry them: a boost.
MODALITIES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "audio": (
        ("audio", "speech", "spoken", "sound", "sounds"),
        frozenset(
            {"automatic-speech-recognition", "audio-classification", "text-to-speech", "audio-to-audio"}
            | {"text-to-audio", "voice-activity-detection"}
        ),
    ),
    "image": (
        ("images", "image", "photos", "pictures", "vision"),
        frozenset(
            {"image-classification", "object-detection", "image-segmentation", "image-to-text", "text-to-image"}
            | {"image-to-image", "visual-question-answering", "zero-shot-image-classification", "depth-estimation"}
        ),
    ),
    "tabular": (
        ("tabular", "table", "tables", "spreadsheet"),
        frozenset(
            {"tabular-classification", "tabular-regression", "table-question-answering", "table-to-text"}
            | {"time-series-forecasting"}
        ),
    ),
    "video": (("video", "videos"), frozenset({"video-classification", "text-to-video", "image-to-video"})),
    # No phrases: "text" in a query names the data's content far more often than its modality
    # ("text classification"), so text is a facet and a filter, never read from a query.
    "text": (
        (),
        frozenset(
            {"text-classification", "token-classification", "question-answering", "summarization", "translation"}
            | {"text-generation", "fill-mask", "sentence-similarity", "text2text-generation", "text-retrieval"}
            | {"zero-shot-classification", "multiple-choice", "text-ranking", "feature-extraction"}
        ),
    ),
}
# File formats that say the modality when no task does (Kaggle and OpenML rows carry no tasks).
FORMAT_MODALITIES: dict[str, str] = {
    **dict.fromkeys(("csv", "tsv", "arff", "xlsx", "xls", "sqlite"), "tabular"),
    **dict.fromkeys(("imagefolder", "jpg", "jpeg", "png", "tif", "tiff", "dicom"), "image"),
    **dict.fromkeys(("audiofolder", "wav", "mp3", "flac", "ogg"), "audio"),
    **dict.fromkeys(("mp4", "avi", "mov"), "video"),
    **dict.fromkeys(("txt", "text"), "text"),
}
MODALITY_NAMES = {"text": "Text", "image": "Image", "audio": "Audio", "tabular": "Tabular", "video": "Video"}


def modalities_of(tasks: list[str], formats: list[str]) -> set[str]:
    """The modalities a dataset's (normalised) tasks say, else those its file formats say."""
    found = {name for name, (_, task_set) in MODALITIES.items() if task_set.intersection(tasks)}
    return found or {FORMAT_MODALITIES[f] for f in formats if f in FORMAT_MODALITIES}
