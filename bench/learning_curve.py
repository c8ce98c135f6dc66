"""The learning-curve forecast, measured on the sample's training file (600 labeled reviews).

    python bench/learning_curve.py

For a user who has labeled 150, 300 and all 600 reviews (random orders, 5 seeds): the curve's points,
the backtest (first half of the points predicting the last, bar 3 points of macro-F1, under which the
app shows no forecast), how long the curve takes, and a harder check than the backtest: the forecast
made at 150 and 300 labels for the macro-F1 the 600-label curve measured at its largest point.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from _sample import sample_parts

from core.assist.embeddings import sentence_encoder
from core.assist.learning_curve import learning_curve

SEEDS = range(5)
SIZES = (150, 300, 600)


def main() -> None:
    (texts, labels), _ = sample_parts()
    torch.set_num_threads(1)
    vectors = np.asarray(sentence_encoder()(texts), dtype=np.float32)
    y = np.asarray(labels)
    full = learning_curve(vectors, labels)
    target = full.points[-1]
    print("All 600 labels:", ", ".join(f"{p.labels}: {p.macro_f1:.3f}±{p.spread:.3f}" for p in full.points))
    print(f"Target for the forecasts below: macro-F1 {target.macro_f1:.3f} at {target.labels} labels\n")
    for size in SIZES:
        errors, shown, seconds, forecast_errors = [], 0, [], []
        for seed in SEEDS:
            order = np.random.default_rng(seed).permutation(len(y))[:size]
            started = time.perf_counter()
            curve = learning_curve(vectors[order], y[order].tolist(), seed=seed)
            seconds.append(time.perf_counter() - started)
            assert curve.backtest is not None and curve.fit is not None
            errors.append(curve.backtest.error)
            shown += curve.can_forecast
            if size < len(y):
                forecast_errors.append(float(curve.fit.macro_f1(target.labels)) - target.macro_f1)
        line = (
            f"{size} labels: backtest error {statistics.mean(errors) * 100:.1f} ± {statistics.stdev(errors) * 100:.1f} "
            f"points, forecast shown for {shown}/{len(SEEDS)} seeds, curve {statistics.mean(seconds):.2f} s"
        )
        if forecast_errors:
            line += (
                f"; forecast of the {target.labels}-label score off by "
                f"{statistics.mean(forecast_errors) * 100:+.1f} ± {statistics.stdev(forecast_errors) * 100:.1f} points"
            )
        print(line)
    gains = full.gains([100, 200, 500])
    for gain in gains:
        print(
            f"600 labels, label {gain.more} more: {gain.expected * 100:+.1f} points "
            f"(80%: {gain.low * 100:+.1f} to {gain.high * 100:+.1f})"
        )
    if not gains:
        print("600 labels: no forecast (backtest outside 3 points)")


if __name__ == "__main__":
    main()
