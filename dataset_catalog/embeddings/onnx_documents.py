"""Document encoding with ONNX Runtime: the `onnx` and `onnx-int8` backends of the embedding model.

The same export the query path uses (embeddings/onnx_query.py: the transformer's last hidden
state in `$DATASET_CATALOG_CACHE_DIR/query-encoders/<model>-<fingerprint>/model.onnx`, its
tokenizer.json and meta.json), run on every core, with what sentence-transformers does around
it: the same tokenizer truncating to the model's max_seq_length (256 word pieces for
all-MiniLM-L6-v2), texts sorted by length within a call and padded per batch, mean pooling,
normalisation. Its vectors are the torch model's within float rounding (cosine >= 0.999,
tested), so they are stored under the same model name and switching backends re-embeds nothing.

`onnx-int8` runs an int8 copy made once beside the export by onnxruntime's dynamic quantisation
(weights of the MatMuls, per channel). Faster, but its vectors are further from the model's:
see docs/embeddings-and-search.md for the measurements before choosing it.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from dataset_catalog.embeddings.onnx_query import OnnxQueryEncoder

log = logging.getLogger(__name__)
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
# The quantisation `onnx-int8` ships: of the variants benchmarks/bench_embedding_throughput.py
# compares, the one whose vectors were closest to the torch model's.
INT8_OPTIONS = {"per_channel": True, "reduce_range": False, "op_types": ("MatMul",)}


class OnnxDocumentEncoder:
    """Encodes many texts like the sentence-transformers model it was exported from (unit-length
    float32 rows), `batch_size` texts per forward pass, on `threads` threads (0: one per core)."""

    def __init__(self, name: str, folder: Path, *, model_file: str = FP32_FILE, batch_size: int = 64, threads: int = 0):
        self.onnx = OnnxQueryEncoder(name, folder, model_file=model_file, threads=threads)
        self.name, self.folder, self.model_file, self.batch_size = name, folder, model_file, batch_size
        self.dimension = self.onnx.dimension
        self.tokenizer = self.onnx.tokenizer.__class__.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.onnx.max_seq_length)  # no padding: each batch pads itself
        self.tokenizer.no_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")  # longest first, as sentence-transformers does
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), self.onnx.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for i, row in enumerate(rows):
                e = encodings[row]
                n = len(e.ids)
                ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
            out[rows] = self.onnx.run(ids, mask, types)
        return out


def quantize_int8(
    source: Path,
    target: Path,
    *,
    per_channel: bool = True,
    reduce_range: bool = False,
    op_types: tuple[str, ...] | None = ("MatMul",),
) -> Path:
    """Write an int8 dynamic quantisation of the ONNX model `source` to `target` (atomically:
    a reader never sees half a file). `op_types` None quantises every op onnxruntime can."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, work = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        quantize_dynamic(
            str(source),
            work,
            per_channel=per_channel,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(op_types) if op_types else None,
        )
        os.replace(work, target)
    finally:
        if os.path.exists(work):
            os.remove(work)
    return target


_quantizing = threading.Lock()


def int8_model(folder: Path) -> Path:
    """The export's int8 copy (INT8_OPTIONS), made now if there is none yet (a few seconds, once)."""
    target = folder / INT8_FILE
    with _quantizing:
        if not target.exists():
            log.info("quantising %s to int8 (%s)", folder / FP32_FILE, INT8_OPTIONS)
            quantize_int8(folder / FP32_FILE, target, **INT8_OPTIONS)
    return target


@functools.cache  # a session is only read: one per process and (export, file, batch size)
def load_onnx_document_encoder(name: str, folder: Path, model_file: str, batch_size: int) -> OnnxDocumentEncoder:
    return OnnxDocumentEncoder(name, folder, model_file=model_file, batch_size=batch_size)
