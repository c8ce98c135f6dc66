"""Active learning on the sample, simulated: how many labels each queue order needs.

    python bench/active_learning.py [--seeds 5] [--start 20] [--batch 20] [--budget 300]

The sample's `rating` column is the oracle. Each run starts from --start random labels of the training
file and adds batches of --batch, chosen the way the Label page's orders choose (core.assist.strategies):
random, least sure (smallest margin), and least sure without repeating the groups of the last five
picks. The fast model (logistic regression on the embeddings, as the app refits it) is refitted after
every batch and scored on the test file, up to --budget labels (half of the 600 in the pool, so
that what an order picks can matter). Printed: macro-F1 by label count per order (mean over seeds),
and the labels each order needs to reach random's final macro-F1. Target (issue #11): the best order
needs <= 60% of random's labels.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from _sample import sample_parts
from sklearn.metrics import f1_score

from core.assist.embeddings import sentence_encoder
from core.assist.fast_model import fit_fast_model
from core.assist.strategies import group_reviews, margins

ORDERS = ("random", "least sure", "least sure, varied")
RECENT = 5


def pick_batch(order: str, model, vectors, groups, pool: list[int], size: int, rng) -> list[int]:  # type: ignore[no-untyped-def]
    if order == "random":
        return [int(i) for i in rng.choice(pool, size=min(size, len(pool)), replace=False)]
    candidates = np.array(pool)
    margin = margins(model.probabilities(vectors[candidates]))
    ranked = candidates[np.argsort(margin, kind="stable")]
    if order == "least sure":
        return ranked[:size].tolist()
    chosen: list[int] = []
    for _ in range(min(size, len(pool))):
        avoid = {int(groups[i]) for i in chosen[-RECENT:]}
        left = [i for i in ranked if i not in chosen]
        fresh = [i for i in left if int(groups[i]) not in avoid]
        chosen.append(int((fresh or left)[0]))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--start", type=int, default=20)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument(
        "--budget", type=int, default=300, help="labels to stop at: half the pool, so choosing matters"
    )
    args = parser.parse_args()
    (train_texts, train_labels), (test_texts, test_labels) = sample_parts()
    encode = sentence_encoder()
    train_vectors, test_vectors = encode(train_texts), encode(test_texts)
    train_labels = np.array(train_labels)
    groups, _ = group_reviews(train_vectors)

    curves: dict[str, list[list[float]]] = {order: [] for order in ORDERS}
    counts: list[int] = []
    for seed in range(args.seeds):
        for order in ORDERS:
            rng = np.random.default_rng(seed)
            labeled = [int(i) for i in rng.choice(len(train_labels), size=args.start, replace=False)]
            curve, counts = [], []
            while True:
                model = fit_fast_model(train_vectors[labeled], train_labels[labeled].tolist())
                predicted = model.label_ids[model.probabilities(test_vectors).argmax(axis=1)]
                curve.append(f1_score(test_labels, predicted, average="macro"))
                counts.append(len(labeled))
                pool = sorted(set(range(len(train_labels))) - set(labeled))
                if not pool or len(labeled) >= args.budget:
                    break
                labeled += pick_batch(order, model, train_vectors, groups, pool, args.batch, rng)
            curves[order].append(curve)
    means = {order: np.mean(curves[order], axis=0) for order in ORDERS}
    print(f"test macro-F1 of the fast model by labels given ({args.seeds} seeds, mean):")
    print("  labels  " + "  ".join(f"{order:>18}" for order in ORDERS))
    for index, count in enumerate(counts):
        if index % 2 == 0 or index == len(counts) - 1:
            print(f"  {count:>6}  " + "  ".join(f"{means[order][index]:>18.3f}" for order in ORDERS))
    target = means["random"][-1]
    print(f"\nrandom's final macro-F1: {target:.3f} at {counts[-1]} labels")
    for order in ORDERS:
        reached = next((counts[i] for i, value in enumerate(means[order]) if value >= target), None)
        share = f"{reached / counts[-1]:.0%} of random's labels" if reached else "never"
        spread = statistics.stdev(c[-1] for c in curves[order]) if args.seeds > 1 else 0.0
        print(
            f"  {order:<20} reaches it at {reached} labels ({share}); final {means[order][-1]:.3f} ± {spread:.3f}"
        )


if __name__ == "__main__":
    main()
