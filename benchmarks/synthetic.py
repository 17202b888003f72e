"""Deterministic synthetic catalog rows with realistic titles/descriptions, and structured vectors.

Vectors: real embeddings are clustered by topic, so instead of uniform random unit vectors
(the hardest, least realistic case for an ANN index) each row's vector is built from real
model embeddings of its topic, task and modality phrases plus Gaussian noise, then normalized.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np

TOPICS = [
    "movie reviews",
    "product reviews",
    "news articles",
    "tweets",
    "medical images",
    "chest x-rays",
    "satellite imagery",
    "street scenes",
    "handwritten digits",
    "bird species",
    "speech recordings",
    "music tracks",
    "podcast transcripts",
    "legal contracts",
    "scientific papers",
    "patents",
    "source code",
    "math word problems",
    "chess games",
    "stock prices",
    "credit card transactions",
    "house prices",
    "weather observations",
    "air quality measurements",
    "traffic accidents",
    "taxi trips",
    "flight delays",
    "electricity consumption",
    "crop yields",
    "wine quality",
    "recipes",
    "restaurant reviews",
    "hotel bookings",
    "job postings",
    "resumes",
    "customer churn",
    "insurance claims",
    "clinical trials",
    "protein sequences",
    "molecules",
    "earthquakes",
    "wildfires",
    "sports results",
    "football matches",
    "video game sales",
    "books",
    "poems",
    "song lyrics",
    "emails",
    "spam messages",
    "chat dialogues",
    "questions and answers",
    "wikipedia pages",
    "parallel sentences",
    "sign language videos",
    "3d point clouds",
    "fashion products",
    "plant diseases",
    "galaxies",
    "covid-19 cases",
]
TASKS = [
    "text classification",
    "sentiment analysis",
    "named entity recognition",
    "question answering",
    "summarization",
    "translation",
    "image classification",
    "object detection",
    "image segmentation",
    "speech recognition",
    "regression",
    "time series forecasting",
    "anomaly detection",
    "clustering",
    "recommendation",
    "text generation",
    "retrieval",
    "tabular classification",
]
MODALITIES = ["text", "images", "audio", "tabular data", "video", "time series"]
ADJECTIVES = [
    "Large",
    "Open",
    "Multilingual",
    "Curated",
    "Annotated",
    "Synthetic",
    "Historical",
    "Global",
    "Daily",
    "Benchmark",
    "Cleaned",
    "Raw",
]
PLACES = [
    "the United States",
    "India",
    "Brazil",
    "Germany",
    "Japan",
    "Kenya",
    "France",
    "Canada",
    "Australia",
    "China",
    "worldwide",
]
LICENSES = ["mit", "apache-2.0", "cc-by-4.0", "cc0-1.0", "cc-by-sa-4.0", "other", "unknown", "odbl-1.0"]
FORMATS = ["parquet", "csv", "json", "jsonl", "imagefolder", "audiofolder", "arrow"]
FILLER = [
    "Collected from public sources and cleaned to remove duplicates.",
    "Each record includes an identifier, a timestamp and a label.",
    "Splits are provided for training, validation and testing.",
    "Annotations were produced by trained crowd workers and verified by experts.",
    "Useful for benchmarking baseline models and for teaching.",
    "Missing values are marked explicitly and documented in the data card.",
    "The dataset is updated periodically as new records become available.",
    "Please cite the original authors when using this resource.",
]


def row_parts(i: int) -> tuple[int, int, int]:
    rng = random.Random(i * 7919 + 13)
    return rng.randrange(len(TOPICS)), rng.randrange(len(TASKS)), rng.randrange(len(MODALITIES))


def make_row(i: int, source: str | None = None) -> dict:
    rng = random.Random(i)
    t, k, m = row_parts(i)
    topic, task, modality = TOPICS[t], TASKS[k], MODALITIES[m]
    adjective, place = rng.choice(ADJECTIVES), rng.choice(PLACES)
    source = source or ("huggingface" if i % 3 else "kaggle")
    title = (
        f"{adjective} {topic.title()} {rng.choice(['Dataset', 'Corpus', 'Collection', 'Benchmark', ''])} {i}".replace(
            "  ", " "
        )
    )
    sentences = [
        f"A {adjective.lower()} collection of {topic} from {place}, released as {modality} for {task}.",
        *rng.sample(FILLER, rng.randint(1, 6)),
        f"It contains {rng.randint(1, 900)} thousand examples covering {topic} and related topics.",
    ]
    created = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(2500))
    return {
        "source": source,
        "external_id": f"user{i % 9973}/{topic.replace(' ', '-')}-{i}",
        "title": title,
        "url": f"https://example.org/{source}/{i}",
        "description": " ".join(sentences),
        "tags": [
            f"task_categories:{task.replace(' ', '-')}",
            f"modality:{modality}",
            f"license:{LICENSES[i % len(LICENSES)]}",
        ],
        "task_categories": [task.replace(" ", "-")],
        "file_formats": [FORMATS[i % len(FORMATS)]],
        "license": LICENSES[i % len(LICENSES)],
        "download_count": int(rng.paretovariate(1.2) * 10),
        "like_count": int(rng.paretovariate(1.5)),
        "source_updated_at": created + timedelta(days=rng.randrange(400)),
        "enrichment_status": "enriched",
    }


def phrase_embeddings(encoder) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return encoder.encode(TOPICS), encoder.encode(TASKS), encoder.encode(MODALITIES)


def make_vectors(ids_range: range, phrases, noise: float = 0.35, seed: int = 0) -> np.ndarray:
    topics, tasks, modalities = phrases
    parts = np.array([row_parts(i) for i in ids_range])
    rng = np.random.default_rng(seed)
    d = topics.shape[1]
    vectors = topics[parts[:, 0]] + 0.6 * tasks[parts[:, 1]] + 0.3 * modalities[parts[:, 2]]
    vectors += rng.standard_normal((len(ids_range), d)).astype(np.float32) * (noise * 1.4 / np.sqrt(d))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def make_queries(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    forms = [
        "{topic} for {task}",
        "dataset of {topic}",
        "{adj} {topic} in {modality}",
        "I need {topic} from {place} to train a {task} model",
        "{task} on {topic}",
        "{topic}",
    ]
    return [
        rng.choice(forms).format(
            topic=rng.choice(TOPICS),
            task=rng.choice(TASKS),
            modality=rng.choice(MODALITIES),
            adj=rng.choice(ADJECTIVES).lower(),
            place=rng.choice(PLACES),
        )
        for _ in range(n)
    ]
