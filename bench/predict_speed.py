"""Batch prediction and single-review latency with the bundled model, as the Predict page runs them.

    python bench/predict_speed.py [--max-tokens 128] [--threads N] [--repeat 3]

A model folder is saved exactly as a run saves one (bundled MiniLM, mean-pooling head; speed does not
depend on the trained weights), loaded through core.inference, and run over the 979 sample reviews.
Also timed: a naive loop (every batch padded to max tokens, file order, autograd on, fp32) for
comparison, and one review at a time (the playground). Bar (issue #5): >= 200 reviews/s at <= 128
tokens on this 2-core CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from core.inference import load_model_folder
from core.sample_data import read_sample_table
from core.training.config import BUNDLED_MODEL
from core.training.device import choose_device, prepare_device
from core.training.job import METADATA_FILE
from core.training.modeling import load_for_training, save_model

LABELS = ["negative", "neutral", "positive"]


def _naive(model: torch.nn.Module, tokenizer: object, texts: list[str], max_tokens: int) -> float:
    device = next(model.parameters()).device
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        batch = tokenizer(  # type: ignore[operator]
            texts[start : start + 64],
            truncation=True,
            max_length=max_tokens,
            padding="max_length",
            return_tensors="pt",
        )
        model(**batch.to(device))
    if device.type == "cuda":
        torch.cuda.synchronize()  # GPU work is queued: time it finished, not when it was asked for
    return time.perf_counter() - started


def _matmul_ceiling(model: torch.nn.Module, token_count: int) -> tuple[float, float]:
    """(GFLOP/s of this CPU on the model's largest matmul, reviews-per-second ceiling factor).

    Every token passes through each Linear layer of the encoder once: 2 x in x out FLOPs. Divided by the measured
    matmul rate, that is the time the matrix multiplies alone need, however well the rest is fused.
    """
    flops_per_token = sum(
        2 * layer.in_features * layer.out_features
        for layer in model.base_model.encoder.modules()  # type: ignore[attr-defined]
        if isinstance(layer, torch.nn.Linear)
    )
    config = model.config  # type: ignore[attr-defined]
    left = torch.randn(8192, config.intermediate_size, dtype=torch.bfloat16)
    right = torch.randn(config.intermediate_size, config.hidden_size, dtype=torch.bfloat16)
    torch.mm(left, right)
    started = time.perf_counter()
    for _ in range(10):
        torch.mm(left, right)
    rate = 10 * 2 * left.shape[0] * left.shape[1] * right.shape[1] / (time.perf_counter() - started)
    return rate / 1e9, token_count * flops_per_token / rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores (no job is training)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    device = choose_device()
    device = dataclasses.replace(device, threads=args.threads or torch.get_num_threads())
    prepare_device(device)
    table = read_sample_table()
    review_column = table.columns.index("review")
    texts = [html.unescape(row.values[review_column]) for row in table.rows]

    with tempfile.TemporaryDirectory() as folder:
        model, tokenizer = load_for_training(BUNDLED_MODEL, LABELS, pooling="mean")
        save_model(model, tokenizer, Path(folder))
        (Path(folder) / METADATA_FILE).write_text(json.dumps({"config": {"max_tokens": args.max_tokens}}))
        started = time.perf_counter()
        loaded = load_model_folder(Path(folder), device=device)
        load_seconds = time.perf_counter() - started

    print(
        f"{len(texts)} sample reviews, max {args.max_tokens} tokens; {device.describe()}; torch {torch.__version__}"
    )
    print(f"model load: {load_seconds:.2f} s (cached per run in the app)")
    loaded.predict(texts[:64])  # warm-up
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        probabilities = loaded.predict(texts)
        timings.append(time.perf_counter() - started)
    assert probabilities.shape == (len(texts), len(LABELS))
    best = min(timings)
    print(
        f"batch (sorted by length, inference mode): {len(texts) / best:.0f} reviews/s "
        f"(best of {args.repeat}: {best:.2f} s; all: {', '.join(f'{t:.2f}' for t in timings)})"
    )
    naive_model = loaded.model.float()
    naive = _naive(naive_model, loaded.tokenizer, texts, args.max_tokens)
    print(f"naive loop (padded to max, file order, autograd on, fp32): {len(texts) / naive:.0f} reviews/s")
    latencies = []
    for text in texts[:30]:
        started = time.perf_counter()
        loaded.predict([text])
        latencies.append((time.perf_counter() - started) * 1000)
    print(
        f"one review (playground): median {statistics.median(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms over 30 reviews"
    )
    if device.kind == "cpu":  # the ceiling is a CPU argument: a GPU is bound by launches, not FLOPs, here
        token_count = sum(
            len(ids)
            for ids in loaded.tokenizer(texts, truncation=True, max_length=args.max_tokens)["input_ids"]
        )
        gflops, floor_seconds = _matmul_ceiling(loaded.model, token_count)
        print(
            f"ceiling: {token_count} tokens through the Linear layers need {floor_seconds:.2f} s at this "
            f"CPU's measured bf16 matmul rate ({gflops:.0f} GFLOP/s), so at most "
            f"{len(texts) / floor_seconds:.0f} reviews/s before attention, GELU and layer norm"
        )
    print(f"bar: >= 200 reviews/s -> {'met' if len(texts) / best >= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
