"""Throughput of the asset's embedding path (embed_datasets: read rows, build texts, hash, encode,
write) vs raw `model.encode` on the same texts, alternating in one process.

    PYTHONPATH=. python benchmarks/bench_embedding_throughput.py [N=512] [--pg]

With `--backends`, the document-encoding backends of the embedding model instead (torch, onnx,
onnx-int8; docs/embeddings-and-search.md#document-encoding-backends), in alternating rounds on the
same texts, each encoded in the asset's chunks of 512: texts/s (wall, and per CPU-second of this
process) per backend, its ratio to torch, and the cosine of its document vectors to torch's.

    PYTHONPATH=. python benchmarks/bench_embedding_throughput.py --backends torch,onnx,onnx-int8
        [N=2000] [--rounds 3] [--threads T] [--synthetic] [--int8-variants pc_rr,pt,pc_all,pc_no_ffn_out]

Texts: the constraint dev cards and then the DataFinder corpus (../shared/eval), Hub items mapped
to rows as `hf_datasets` maps them, through build_embedding_text; `--synthetic` the synthetic rows
of the default mode. `--int8-variants` adds int8 quantisations other than the shipped one
(onnx_documents.INT8_OPTIONS) as further backends, made in a temporary folder:
pc = per channel, MatMul weights only (shipped); pc_rr = the same with reduce_range;
pt = per tensor; pc_all = per channel, every op onnxruntime quantises; pc_no_ffn_out = pc
without the feed-forward output projections. `--threads T` runs every backend on T threads
(torch.set_num_threads, onnxruntime's intra-op threads) instead of each one's default.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from common import ROOT, Timer, load_conditions, pg_database

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from synthetic import make_row

from dataset_catalog.catalog import CatalogStore
from dataset_catalog.embeddings.encoder import load_encoder
from dataset_catalog.embeddings.sync import embed_datasets
from dataset_catalog.embeddings.text import build_embedding_text

CHUNK = 512  # the asset's chunk_size: one encode call per chunk


def eval_texts(n: int) -> list[str]:
    """n real-ish embedding texts: the constraint dev cards, then the DataFinder corpus."""
    from dataset_catalog.huggingface.mapping import map_item

    shared = ROOT.parent / "shared" / "eval"
    items = json.loads((shared / "constraints" / "constraint_dev_cards.json").read_text())
    items += json.loads((shared / "datafinder" / "corpus_hub_items.json").read_text())
    return [build_embedding_text(map_item(item).row) for item in items[:n]]


INT8_VARIANTS = {
    "pc": {"per_channel": True, "reduce_range": False, "op_types": ("MatMul",)},
    "pc_rr": {"per_channel": True, "reduce_range": True, "op_types": ("MatMul",)},
    "pt": {"per_channel": False, "reduce_range": False, "op_types": ("MatMul",)},
    "pc_all": {"per_channel": True, "reduce_range": False, "op_types": None},
}


def int8_variant(encoder, tag: str, work: Path, threads: int = 0):
    """An OnnxDocumentEncoder of `encoder`'s export quantised as the variant `tag`, in `work`."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from dataset_catalog.embeddings.onnx_documents import FP32_FILE, OnnxDocumentEncoder, quantize_int8

    export = encoder.documents.folder
    for name in ("meta.json", "tokenizer.json"):
        if not (work / name).exists():
            shutil.copy(export / name, work / name)
    target = work / f"int8-{tag}.onnx"
    if tag == "pc_no_ffn_out":
        graph = onnx.load(str(export / FP32_FILE)).graph
        weights = {i.name for i in graph.initializer}
        ffn_out = [
            n.name
            for n in graph.node
            if n.op_type == "MatMul" and "/output/dense" in n.name and "attention" not in n.name
            if any(i in weights for i in n.input)
        ]
        quantize_dynamic(
            str(export / FP32_FILE),
            str(target),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=ffn_out,
        )
    else:
        quantize_int8(export / FP32_FILE, target, **INT8_VARIANTS[tag])
    return OnnxDocumentEncoder(
        encoder.name, work, model_file=target.name, batch_size=encoder.batch_size, threads=threads
    )


def compare_backends(args: list[str]) -> None:
    n = int(next((a for a in args if a.isdigit()), 2000))
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    backends = args[args.index("--backends") + 1].split(",")
    variants = args[args.index("--int8-variants") + 1].split(",") if "--int8-variants" in args else []
    texts = [build_embedding_text(make_row(i)) for i in range(n)] if "--synthetic" in args else eval_texts(n)
    n = len(texts)
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 0
    encoders = {b: load_encoder(backend=b) for b in dict.fromkeys(["torch", *backends])}
    work = Path(tempfile.mkdtemp(prefix="int8-variants-"))
    try:
        onnx_encoder = encoders.get("onnx") or load_encoder(backend="onnx")
        encode = {b: e.encode for b, e in encoders.items() if b in backends}
        for tag in variants:
            encode[f"int8:{tag}"] = int8_variant(onnx_encoder, tag, work, threads).encode
        if threads:  # every backend on this many threads: work per core, whatever the neighbours do
            import torch

            from dataset_catalog.embeddings.onnx_documents import OnnxDocumentEncoder

            torch.set_num_threads(threads)
            for b, e in encoders.items():
                if e.documents is not None and b in backends:
                    d = e.documents
                    encode[b] = OnnxDocumentEncoder(
                        e.name, d.folder, model_file=d.model_file, batch_size=d.batch_size, threads=threads
                    ).encode
        tokens = [len(e.ids) for e in onnx_encoder.documents.tokenizer.encode_batch(texts)]
        print(
            f"{n} texts ({'synthetic' if '--synthetic' in args else 'dev cards + DataFinder corpus'}), "
            f"{min(tokens)}-{max(tokens)} word pieces (mean {statistics.fmean(tokens):.0f}, "
            f"{sum(t >= 256 for t in tokens) / n:.0%} cut at 256); chunks of {CHUNK}, batch "
            f"{encoders['torch'].batch_size}; {rounds} rounds; threads {threads or 'default'}; {load_conditions()}"
        )

        def run(fn):
            return np.concatenate([fn(texts[i : i + CHUNK]) for i in range(0, n, CHUNK)])

        for fn in encode.values():
            fn(texts[:64])  # warm-up
        wall: dict[str, list[float]] = {b: [] for b in encode}
        cpu: dict[str, list[float]] = {b: [] for b in encode}
        vectors = {}
        names = list(encode)
        for round_ in range(rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]  # who goes first rotates
            for b in order:
                c0 = time.process_time()
                with Timer() as t:
                    vectors[b] = run(encode[b])
                wall[b].append(n / t.seconds)
                cpu[b].append(n / (time.process_time() - c0))
            print(
                f"round {round_ + 1}: "
                + " | ".join(f"{b} {wall[b][-1]:.1f} texts/s ({cpu[b][-1]:.1f}/CPU-s)" for b in names)
                + f" | {load_conditions()}",
                flush=True,
            )
        reference = vectors.get("torch")
        if reference is None:
            reference = run(encoders["torch"].encode)
        print(
            f"\n{'backend':<18} {'texts/s':>8} {'x torch':>8} {'/CPU-s':>8} {'x torch':>8} {'sum-of-walls':>12} "
            f"{'cos min':>8} {'cos p1':>8} {'cos mean':>8}"
        )
        torch_wall, torch_cpu = statistics.median(wall["torch"]), statistics.median(cpu["torch"])
        for b in names:
            cos = np.sum(vectors[b] * reference, axis=1)
            print(
                f"{b:<18} {statistics.median(wall[b]):>8.1f} {statistics.median(wall[b]) / torch_wall:>8.2f} "
                f"{statistics.median(cpu[b]):>8.1f} {statistics.median(cpu[b]) / torch_cpu:>8.2f} "
                f"{sum(1 / w for w in wall['torch']) / sum(1 / w for w in wall[b]):>12.2f} "
                f"{cos.min():>8.4f} {np.percentile(cos, 1):>8.4f} {cos.mean():>8.4f}"
            )
        print("(medians over rounds; sum-of-walls = torch's total time / this backend's; targets: >= 2x, cos >= 0.99)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    if "--backends" in sys.argv:
        compare_backends(sys.argv[1:])
        return
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), 512))
    use_pg = "--pg" in sys.argv
    encoder = load_encoder()
    rows = [make_row(i) for i in range(n)]
    texts = [build_embedding_text(r) for r in rows]
    words = [len(t.split()) for t in texts]
    print(
        f"{n} texts, {min(words)}-{max(words)} words (mean {statistics.fmean(words):.0f}); batch {encoder.batch_size}; {load_conditions()}"
    )
    encoder.encode(texts[:64])  # warm-up
    raw, asset, raw_cpu, asset_cpu = [], [], [], []
    rounds = 5
    for round_ in range(rounds):
        c0 = time.process_time()
        with Timer() as t:
            encoder.model.encode(
                texts, batch_size=encoder.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        raw.append(n / t.seconds)
        raw_cpu.append(n / (time.process_time() - c0))
        with pg_database("tput") if use_pg else nullcontext(None) as pg_url, tempfile.TemporaryDirectory() as tmp:
            store = CatalogStore(pg_url or f"sqlite:///{tmp}/c.sqlite3")
            store.upsert_datasets(rows)
            c0 = time.process_time()
            with Timer() as t:
                report = embed_datasets(store, encoder)
            assert report.embedded == n, report
            asset.append(n / t.seconds)
            asset_cpu.append(n / (time.process_time() - c0))
        print(
            f"round {round_ + 1}: raw encode {raw[-1]:.1f} texts/s | asset path {asset[-1]:.1f} texts/s "
            f"(encode-only {report.texts_per_second:.1f}) | wall ratio {asset[-1] / raw[-1]:.3f} "
            f"| per-CPU-second ratio {asset_cpu[-1] / raw_cpu[-1]:.3f} | {load_conditions()}"
        )
    ratios = [a / r for a, r in zip(asset, raw, strict=True)]
    cpu_ratios = [a / r for a, r in zip(asset_cpu, raw_cpu, strict=True)]
    print(
        f"{'PostgreSQL' if use_pg else 'SQLite'}: median raw {statistics.median(raw):.1f} texts/s, "
        f"median asset {statistics.median(asset):.1f} texts/s, median wall ratio {statistics.median(ratios):.3f}, "
        f"sum-of-walls ratio {sum(n / a for a in raw) / sum(n / a for a in asset):.3f}, "
        f"median per-CPU-second ratio {statistics.median(cpu_ratios):.3f} (target >= 0.95)"
    )


if __name__ == "__main__":
    main()
