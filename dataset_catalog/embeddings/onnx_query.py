"""A query encoder for fresh processes: the model's transformer exported once to ONNX and run
with onnxruntime + tokenizers, so a search from a shell never imports torch or
sentence-transformers (~5 s of a cold `dataset-catalog search`).

Only models sentence-transformers runs as transformer -> mean pooling (-> normalize), like
all-MiniLM-L6-v2, are exported; anything else keeps the torch path. The export lives in
`$DATASET_CATALOG_CACHE_DIR/query-encoders/<model>-<fingerprint>/` (model.onnx, tokenizer.json,
meta.json), written by the first search that had to load the torch model. Its vectors agree with
the torch encoding (cosine >= 0.999 on 1,000 texts, tested), so rankings do not change.
`DATASET_CATALOG_QUERY_ENCODER=torch` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataset_catalog import settings

if TYPE_CHECKING:
    from dataset_catalog.embeddings.encoder import Encoder

log = logging.getLogger(__name__)
QUERY_ENCODER_ENV = "DATASET_CATALOG_QUERY_ENCODER"  # auto (default) | torch
EXPORT_VERSION = "1"  # bump when the export changes: old exports are then ignored


def onnx_session(path: Path, threads: int = 1):
    """An onnxruntime CPU session of `path` on `threads` intra-op threads (0: onnxruntime's choice,
    one per physical core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if threads != 1:  # on shared cores a thread spinning for work takes the CPU its peers need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def mean_pool(hidden: np.ndarray, mask: np.ndarray, normalize: bool) -> np.ndarray:
    """sentence-transformers' mean pooling (-> normalize) of a padded batch's last hidden state."""
    weights = mask[..., None].astype(np.float32)
    vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    if normalize:
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors.astype(np.float32)


class OnnxQueryEncoder:
    """Encodes texts like the sentence-transformers model it was exported from: unit-length float32 rows.

    `model_file` names another ONNX file of the export folder (the int8 copy of the document
    encoder, embeddings/onnx_documents.py); `threads` its session's intra-op threads."""

    def __init__(self, name: str, folder: Path, *, model_file: str = "model.onnx", threads: int = 1):
        from tokenizers import Tokenizer

        meta = json.loads((folder / "meta.json").read_text())
        self.name, self.folder = name, folder
        self.dimension = int(meta["dimension"])
        self.normalize = bool(meta["normalize"])
        self.max_seq_length = int(meta["max_seq_length"])
        self.pad_id = int(meta.get("pad_id", 0))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=self.pad_id)
        # one query at a time by default: a second thread mostly waits
        self.session = onnx_session(folder / model_file, threads)

    def run(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Vectors of one padded batch of token ids (int64 arrays of one shape)."""
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        return mean_pool(hidden, mask, self.normalize)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batch = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in batch], dtype=np.int64)
        mask = np.array([e.attention_mask for e in batch], dtype=np.int64)
        types = np.array([e.type_ids for e in batch], dtype=np.int64)
        return self.run(ids, mask, types)


def _fingerprint(name: str, source: str) -> str:
    """Changes with the model's identity and, for a local folder, with its weight files."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}\0{name}\0{source}".encode())
    folder = Path(source)
    if folder.is_dir():
        for path in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
            stat = path.stat()
            digest.update(f"{path.name}\0{stat.st_size}\0{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def export_folder(name: str, source: str) -> Path:
    readable = re.sub(r"[^A-Za-z0-9._]+", "_", name)[:80]
    return settings.cache_dir() / "query-encoders" / f"{readable}-{_fingerprint(name, source)}"


_loaded: dict[Path, OnnxQueryEncoder] = {}
_loaded_lock = threading.Lock()


def load_onnx_query_encoder(name: str, source: str) -> OnnxQueryEncoder | None:
    """The exported encoder of this model, or None (not exported yet, turned off, or unreadable)."""
    if os.environ.get(QUERY_ENCODER_ENV, "auto").strip().lower() == "torch":
        return None
    folder = export_folder(name, source)
    if not (folder / "meta.json").exists():
        return None
    with _loaded_lock:
        if folder not in _loaded:
            try:
                _loaded[folder] = OnnxQueryEncoder(name, folder)
            except Exception as exc:  # a broken export, or onnxruntime missing: the torch path answers
                log.warning("ignoring the ONNX query encoder in %s (%s: %s)", folder, type(exc).__name__, exc)
                return None
        return _loaded[folder]


def _exportable(model: Any) -> tuple[Any, bool] | None:
    """(the transformer module, normalize) when the model is transformer -> mean pooling (-> normalize)."""
    modules = list(model)
    kinds = [type(m).__name__ for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return None
    if getattr(modules[1], "pooling_mode", None) != "mean" and not getattr(
        modules[1], "pooling_mode_mean_tokens", False
    ):
        return None
    if getattr(model, "tokenizer", None) is None or not getattr(model.tokenizer, "is_fast", False):
        return None
    return modules[0], len(modules) == 3


def export_onnx_query_encoder(encoder: Encoder) -> Path | None:
    """Export `encoder`'s model for later processes (a few seconds, once); None when the model's
    shape is not supported or the export fails (logged: searches keep the torch path)."""
    import torch

    parts = _exportable(encoder.model)
    if parts is None:
        return None
    transformer, normalize = parts
    folder = export_folder(encoder.name, encoder.source)

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            sample = encoder.model.tokenizer(["an example query"], return_tensors="pt", return_token_type_ids=True)
            inputs = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
            names = ["input_ids", "attention_mask", "token_type_ids"]
            axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tracer's notes about Python bools: not for a search's stderr
                torch.onnx.export(
                    LastHiddenState(transformer.auto_model).eval(),
                    inputs,
                    str(work / "model.onnx"),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=17,
                    dynamo=False,
                )
            encoder.model.tokenizer.save_pretrained(str(work / "tokenizer"))
            shutil.move(str(work / "tokenizer" / "tokenizer.json"), work / "tokenizer.json")
            shutil.rmtree(work / "tokenizer")
            meta = {
                "name": encoder.name,
                "dimension": encoder.dimension,
                "normalize": normalize,
                "max_seq_length": int(encoder.model.max_seq_length),
                "pad_id": int(encoder.model.tokenizer.pad_token_id or 0),
            }
            (work / "meta.json").write_text(json.dumps(meta))
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(work, folder)  # meta.json appears with the rest, never before
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except Exception as exc:
        log.warning("could not export %s to ONNX for fast searches (%s: %s)", encoder.name, type(exc).__name__, exc)
        return None
    return folder
