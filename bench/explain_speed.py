"""Explain-page timings with the bundled model: attention for one review, and integrated gradients.

    python bench/explain_speed.py [--max-tokens 128] [--reviews 10] [--steps N] [--run-folder DIR]

The model is loaded with eager attention and warmed up, as the Explain page loads it. Without
--run-folder it is the bundled MiniLM with a fresh mean-pooling head, saved as a run saves one: the
timings do not depend on the weights, but its near-flat probabilities make the convergence error look
smaller than a trained model's. Pass a trained run's folder (data/runs/<id>) for a realistic error.
Bars (issue #5, this 2-core CPU): attention <= 200 ms per review, integrated gradients <= 2 s per review.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from core.explain import attention_rollout, attention_view, ig_steps, integrated_gradients, warm_up
from core.inference import load_model_folder
from core.sample_data import read_sample_table
from core.training.config import BUNDLED_MODEL
from core.training.device import choose_device
from core.training.job import METADATA_FILE
from core.training.modeling import load_for_training, save_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--reviews", type=int, default=10)
    parser.add_argument("--steps", type=int, default=None, help="default: as the app picks by length")
    parser.add_argument("--run-folder", type=Path, default=None, help="a trained run's model folder")
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    table = read_sample_table()
    column = table.columns.index("review")
    # The longest reviews: the slowest case, all of them cut at max tokens.
    texts = sorted((html.unescape(row.values[column]) for row in table.rows), key=len, reverse=True)[
        : args.reviews
    ]
    started = time.perf_counter()
    if args.run_folder:
        loaded = load_model_folder(args.run_folder, device=choose_device(), attention=True)
        loaded.max_tokens = args.max_tokens
    else:
        with tempfile.TemporaryDirectory() as folder:
            model, tokenizer = load_for_training(
                BUNDLED_MODEL, ["negative", "neutral", "positive"], pooling="mean"
            )
            save_model(model, tokenizer, Path(folder))
            (Path(folder) / METADATA_FILE).write_text(json.dumps({"config": {"max_tokens": args.max_tokens}}))
            loaded = load_model_folder(Path(folder), device=choose_device(), attention=True)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    warm_up(loaded)
    warm_s = time.perf_counter() - started
    print(
        f"{len(texts)} longest sample reviews at max {args.max_tokens} tokens; {loaded.device.describe()}; "
        f"{torch.get_num_threads()} threads; model: {args.run_folder or 'untrained head'}"
    )
    print(f"model load {load_s:.2f} s + warm-up {warm_s:.2f} s, once per run (cached by the app)")
    attention_view(loaded, texts[0])  # warm-up
    attention_ms, ig_s, deltas = [], [], []
    for text in texts:
        started = time.perf_counter()
        view = attention_view(loaded, text)
        attention_rollout(view.attentions)
        attention_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _, _, delta = integrated_gradients(loaded, text, int(view.probabilities.argmax()), steps=args.steps)
        ig_s.append(time.perf_counter() - started)
        deltas.append(delta)
    print(
        f"attention + rollout: median {statistics.median(attention_ms):.0f} ms, max {max(attention_ms):.0f} ms "
        f"(bar 200 ms)"
    )
    steps_text = (
        f"{args.steps} steps" if args.steps else f"{ig_steps(args.max_tokens)} steps, as the app picks"
    )
    print(
        f"integrated gradients ({steps_text}): median {statistics.median(ig_s):.2f} s, "
        f"max {max(ig_s):.2f} s (bar 2 s); convergence error median {statistics.median(deltas):.4f}"
    )


if __name__ == "__main__":
    main()
