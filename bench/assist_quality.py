"""The model in the labeling loop, measured: zero-shot suggestions, embedding speed, refit and lookup times.

    python bench/assist_quality.py

- Zero-shot suggestions on the sample's test file (drugsComTest.tsv, 379 reviews): accuracy and
  macro-F1 with the default descriptions (the label names) and with descriptions written once below,
  never tuned on that file.
- The fast model learning from people's labels: test scores after 20, 50, 100, 300 and all 600
  training-file labels (logistic regression on the embeddings, as the app refits it).
- Embedding speed of the bundled MiniLM, on one thread (while a fine-tune holds the other core) and on
  all threads. Bar (issue #11): >= 100 reviews/s.
- Suspicious labels: precision and recall at finding 10% planted label flips in the training file
  (bar: precision >= 0.6), and the top suspects among the sample's own labels.
- Fast-model refit at 5,000 labels (bar: <= 2 s), a suggestion lookup and a least-sure pick (bar:
  <= 100 ms, without the database query for labeled reviews) on a 100,000-review store.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from _sample import LABELS, sample_parts
from sklearn.metrics import accuracy_score, f1_score

from core.assist.embeddings import EmbeddingStore, sentence_encoder
from core.assist.fast_model import fit_fast_model, zero_shot_probabilities
from core.assist.label_issues import find_issues, out_of_sample_probabilities
from core.assist.refresh import FAST_MODEL_FILE
from core.assist.strategies import most_uncertain
from core.sample_data import TEST_FILE
from core.services.suggestions import Suggester

WRITTEN = {
    "negative": "The reviewer had a bad experience: the drug did not work or its side effects were too hard.",
    "neutral": "The reviewer has mixed feelings about the drug: some benefit, but also real drawbacks.",
    "positive": "The reviewer is happy with the drug: it worked well for them.",
}
EMBED_BAR, REFIT_BAR_S = 100.0, 2.0


def _scores(truth: list[int], predicted: np.ndarray) -> str:
    return f"accuracy {accuracy_score(truth, predicted):.3f}, macro-F1 {f1_score(truth, predicted, average='macro'):.3f}"


def main() -> None:
    (train_texts, train_labels), (test_texts, test_labels) = sample_parts()
    encode = sentence_encoder()

    torch.set_num_threads(1)
    started = time.perf_counter()
    test_vectors = encode(test_texts)
    one_thread = len(test_texts) / (time.perf_counter() - started)
    torch.set_num_threads(torch.get_num_interop_threads() or 2)
    started = time.perf_counter()
    train_vectors = encode(train_texts)
    all_threads = len(train_texts) / (time.perf_counter() - started)
    print(
        f"embedding speed: {one_thread:.0f} reviews/s on 1 thread, {all_threads:.0f} on {torch.get_num_threads()} "
        f"(bar {EMBED_BAR:.0f}: {'yes' if max(one_thread, all_threads) >= EMBED_BAR else 'NO'})"
    )

    print(f"\nzero-shot suggestions on {TEST_FILE} ({len(test_texts)} reviews):")
    for name, descriptions in (
        ("label names", LABELS),
        ("written descriptions", [WRITTEN[label] for label in LABELS]),
    ):
        probabilities = zero_shot_probabilities(test_vectors, encode(descriptions))
        predicted = probabilities.argmax(axis=1)
        confidence = probabilities.max(axis=1)
        print(
            f"  {name:<22} {_scores(test_labels, predicted)}; confidence 10-90%: "
            f"{np.percentile(confidence, 10):.2f}-{np.percentile(confidence, 90):.2f}"
        )
    majority = np.full(len(test_labels), np.bincount(train_labels).argmax())
    print(f"  {'always the most common':<22} {_scores(test_labels, majority)}")

    print("\nthe fast model after n labels from the training file (5 random orders), on the test file:")
    for n in (20, 50, 100, 300, len(train_texts)):
        accuracies, f1s = [], []
        for seed in range(5):
            order = np.random.default_rng(seed).permutation(len(train_texts))[:n]
            labels = [train_labels[i] for i in order]
            if len(set(labels)) < 2:
                continue
            model = fit_fast_model(train_vectors[order], labels)
            predicted = model.label_ids[model.probabilities(test_vectors).argmax(axis=1)]
            accuracies.append(accuracy_score(test_labels, predicted))
            f1s.append(f1_score(test_labels, predicted, average="macro"))
        print(
            f"  {n:>4} labels: accuracy {statistics.mean(accuracies):.3f} ± {statistics.stdev(accuracies):.3f}, "
            f"macro-F1 {statistics.mean(f1s):.3f} ± {statistics.stdev(f1s):.3f}"
        )

    print("\nsuspicious labels (cleanlab on 5-fold out-of-sample probabilities of the fast model):")
    rng = np.random.default_rng(0)
    flipped = rng.choice(len(train_labels), size=len(train_labels) // 10, replace=False)
    noisy = np.array(train_labels)
    noisy[flipped] = (noisy[flipped] + rng.integers(1, len(LABELS), size=len(flipped))) % len(LABELS)
    started = time.perf_counter()
    issues = find_issues(noisy.tolist(), out_of_sample_probabilities(train_vectors, noisy.tolist()))
    seconds = time.perf_counter() - started
    planted = set(flipped.tolist())
    hits = len({issue.row for issue in issues} & planted)
    precision = hits / len(issues) if issues else 0.0
    at = {k: len({issue.row for issue in issues[:k]} & planted) / k for k in (10, 20, 30) if len(issues) >= k}
    print(
        f"  10% of the training file's labels flipped ({len(flipped)}): {len(issues)} flagged, precision "
        f"{precision:.2f}, recall {hits / len(flipped):.2f} (bar: precision >= 0.6) in {seconds:.1f} s; "
        "precision among the top " + ", ".join(f"{k}: {v:.2f}" for k, v in at.items())
    )
    texts = train_texts + test_texts
    every = np.vstack([train_vectors, test_vectors])
    given = list(train_labels) + list(test_labels)
    real = find_issues(given, out_of_sample_probabilities(every, given))
    print(
        f"  the sample's own labels (from star ratings): {len(real)} of {len(given)} flagged; the top five:"
    )
    for issue in real[:5]:
        text = " ".join(texts[issue.row].split())[:150]
        print(
            f"    given {LABELS[given[issue.row]]}, suggested {LABELS[issue.suggested]} "
            f"({issue.quality:.2f}): {text}"
        )

    rng = np.random.default_rng(0)
    many = rng.normal(size=(5000, train_vectors.shape[1])).astype(np.float32)
    many_labels = rng.integers(0, 3, size=5000).tolist()
    started = time.perf_counter()
    fit_fast_model(many, many_labels)
    refit = time.perf_counter() - started
    print(
        f"\nfast-model refit at 5,000 labels: {refit:.2f} s (bar {REFIT_BAR_S:.0f} s: {'yes' if refit <= REFIT_BAR_S else 'NO'})"
    )

    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddingStore(Path(folder))
        vectors = rng.normal(size=(100_000, train_vectors.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for start in range(0, len(vectors), 256):
            store.append(list(range(start, min(start + 256, len(vectors)))), vectors[start : start + 256])
        fit_fast_model(vectors[:600], many_labels[:600]).save(store.folder / FAST_MODEL_FILE)
        suggester = Suggester(store)
        started = time.perf_counter()
        suggester.suggest(0)
        first = time.perf_counter() - started
        times = []
        for record_id in rng.integers(0, 100_000, size=200).tolist():
            started = time.perf_counter()
            suggester.suggest(int(record_id))
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        view = suggester.view()
        grouping = time.perf_counter() - started
        picks = []
        for _ in range(20):
            started = time.perf_counter()
            view = suggester.view()
            candidates = np.flatnonzero(~np.isin(view.record_ids, many_labels[:5000]))
            assert view.model is not None
            most_uncertain(view.model.probabilities(view.vectors[candidates]), groups=view.groups[candidates])
            picks.append(time.perf_counter() - started)
        print(
            f"least-sure pick among 100,000 reviews: p50 {np.percentile(picks, 50) * 1000:.0f} ms, "
            f"p95 {np.percentile(picks, 95) * 1000:.0f} ms (bar 100 ms); grouping them first: {grouping:.1f} s"
        )
        print(
            f"suggestion on a 100,000-review store: first {first:.2f} s (reads every shard once), "
            f"then p50 {np.percentile(times, 50) * 1000:.1f} ms, p95 {np.percentile(times, 95) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
