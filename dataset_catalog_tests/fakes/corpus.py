"""A small hand-made corpus of catalog rows from both sources, for search and embedding tests."""

from __future__ import annotations

from datetime import UTC, datetime


def ds(source: str, external_id: str, title: str, description: str, **extra) -> dict:
    row = {
        "source": source,
        "external_id": external_id,
        "title": title,
        "url": f"https://example.org/{source}/{external_id}",
        "description": description,
        "tags": extra.pop("tags", []),
        "task_categories": extra.pop("task_categories", []),
        "file_formats": extra.pop("file_formats", []),
        "license": extra.pop("license", None),
        "download_count": extra.pop("download_count", 100),
        "like_count": extra.pop("like_count", 1),
        "source_updated_at": extra.pop("source_updated_at", datetime(2025, 6, 1, tzinfo=UTC)),
    }
    row.update(extra)
    return row


HF, KG = "huggingface", "kaggle"
CORPUS = [
    ds(
        HF,
        "stanfordnlp/imdb",
        "IMDB Large Movie Review Dataset",
        "50,000 highly polar movie reviews from IMDB labelled positive or negative, for binary sentiment classification of film reviews.",
        tags=["task_categories:text-classification", "language:en", "format:parquet"],
        task_categories=["text-classification"],
        file_formats=["parquet"],
        license="other",
        download_count=250_000,
        like_count=300,
    ),
    ds(
        HF,
        "ylecun/mnist",
        "MNIST",
        "Grayscale 28x28 images of handwritten digits 0-9: 60,000 training and 10,000 test examples.",
        tags=["task_categories:image-classification", "format:parquet"],
        task_categories=["image-classification"],
        file_formats=["parquet"],
        license="mit",
        download_count=90_000,
    ),
    ds(
        HF,
        "openslr/librispeech_asr",
        "LibriSpeech ASR",
        "About 1,000 hours of read English speech from audiobooks, sampled at 16 kHz, for automatic speech recognition.",
        tags=["modality:audio"],
        task_categories=["automatic-speech-recognition"],
        file_formats=["parquet"],
        license="cc-by-4.0",
    ),
    ds(
        HF,
        "rajpurkar/squad",
        "SQuAD",
        "Stanford Question Answering Dataset: crowdworkers posed questions on Wikipedia articles; "
        "the answer to every question is a span of the passage. Reading comprehension benchmark.",
        task_categories=["question-answering"],
        file_formats=["parquet"],
        license="cc-by-sa-4.0",
        download_count=80_000,
    ),
    ds(
        HF,
        "detection-datasets/coco",
        "COCO 2017",
        "Common Objects in Context: everyday scenes with bounding boxes and "
        "segmentation masks for 80 object categories, for object detection.",
        task_categories=["object-detection"],
        file_formats=["parquet"],
        license="cc-by-4.0",
    ),
    ds(
        KG,
        "yasserh/titanic-dataset",
        "Titanic Dataset",
        "Passenger list of the RMS Titanic with age, sex, ticket class and "
        "whether each passenger survived the shipwreck. Predict survival.",
        tags=["tabular", "binary classification"],
        file_formats=["csv"],
        license="cc0-1.0",
        download_count=40_000,
    ),
    ds(
        KG,
        "mlg-ulb/creditcardfraud",
        "Credit Card Fraud Detection",
        "Anonymized credit card transactions labeled as "
        "fraudulent or genuine; highly imbalanced, 492 frauds out of 284,807 transactions.",
        tags=["finance", "banking"],
        file_formats=["csv"],
        license="dbcl-1.0",
        download_count=60_000,
    ),
    ds(
        KG,
        "budincsevity/szeged-weather",
        "Weather in Szeged 2006-2016",
        "Hourly weather history: temperature, humidity, "
        "wind speed, visibility and pressure recorded in Szeged, Hungary.",
        tags=["weather", "climate"],
        file_formats=["csv"],
        license="cc-by-sa-4.0",
        download_count=9_000,
    ),
    ds(
        HF,
        "wmt/wmt14",
        "WMT14 German-English",
        "Parallel sentences for machine translation between German and English "
        "from the 2014 Workshop on Statistical Machine Translation.",
        task_categories=["translation"],
        file_formats=["parquet"],
        license="unknown",
    ),
    ds(
        HF,
        "abisee/cnn_dailymail",
        "CNN / DailyMail",
        "Over 300k news articles written by journalists at CNN and the Daily "
        "Mail with highlight sentences, for abstractive summarization.",
        task_categories=["summarization"],
        file_formats=["parquet"],
        license="apache-2.0",
        download_count=70_000,
    ),
    ds(
        KG,
        "harlfoxem/housesalesprediction",
        "House Sales in King County, USA",
        "Sale prices of homes sold in King County "
        "between May 2014 and May 2015 with bedrooms, square footage and location; regression.",
        tags=["real estate", "regression"],
        file_formats=["csv"],
        license="cc0-1.0",
        download_count=20_000,
    ),
    ds(
        KG,
        "paultimothymooney/chest-xray-pneumonia",
        "Chest X-Ray Images (Pneumonia)",
        "5,863 pediatric chest X-ray images labelled pneumonia or normal, for medical image classification.",
        tags=["healthcare", "medicine", "images"],
        file_formats=["jpeg"],
        license="cc-by-4.0",
        download_count=35_000,
    ),
    ds(
        HF,
        "bigcode/the-stack-smol",
        "The Stack (small)",
        "Permissively licensed source code files in 30 programming "
        "languages, such as Python, Java and Rust, for training code language models.",
        task_categories=["text-generation"],
        file_formats=["json"],
        license="other",
    ),
    ds(
        KG,
        "maharshipandya/spotify-tracks-dataset",
        "Spotify Tracks Dataset",
        "Spotify songs across 125 music genres with audio features such as danceability, energy, tempo and popularity.",
        tags=["music"],
        file_formats=["csv"],
        license="odbl-1.0",
    ),
    ds(
        HF,
        "dair-ai/emotion",
        "Emotion",
        "English Twitter messages labelled with six basic emotions: anger, fear, joy, love, sadness and surprise.",
        task_categories=["text-classification"],
        file_formats=["parquet"],
        license="other",
    ),
    ds(
        KG,
        "uciml/red-wine-quality",
        "Red Wine Quality",
        "Physicochemical properties (acidity, sugar, alcohol) of "
        "Portuguese red wines with a quality score from tasters.",
        tags=["food", "regression"],
        file_formats=["csv"],
        license="dbcl-1.0",
    ),
    ds(
        KG,
        "elemento/nyc-yellow-taxi-trip-data",
        "NYC Yellow Taxi Trips",
        "Trip records of New York City yellow cabs: pickup and dropoff times and locations, distances, fares and tips.",
        tags=["transportation", "cities"],
        file_formats=["csv"],
        license="other",
        download_count=15_000,
    ),
    ds(
        HF,
        "mozilla-foundation/common_voice_11_0",
        "Common Voice 11",
        "Crowd-sourced recordings of people reading sentences "
        "aloud in over 100 languages, with transcripts; speech recognition.",
        task_categories=["automatic-speech-recognition"],
        file_formats=["parquet"],
        license="cc0-1.0",
    ),
    ds(
        HF,
        "clue/tnews",
        "TNEWS 今日头条新闻分类",
        "今日头条中文新闻标题分类数据集，共 15 个类别，例如体育、财经、科技。",
        task_categories=["text-classification"],
        file_formats=["json"],
        license="apache-2.0",
    ),
    ds(
        HF,
        "nlpaueb/finer-139",
        "FiNER-139",
        "Financial numeric entity recognition: XBRL tags of numbers in annual "
        "reports, a named entity recognition task.",
        task_categories=["token-classification"],
        file_formats=["parquet"],
        license="cc-by-sa-4.0",
    ),
]
