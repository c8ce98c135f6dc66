"""Train a preset on the sample (drugsComTrain.tsv; drugsComTest.tsv held out) exactly as the app does.

    python bench/train_quality.py [--preset Balanced] [--threads N] [--epochs E] [--lr LR] [--max-tokens T]
                                  [--augment] [--fp32]

Prints test accuracy and macro-F1, validation macro-F1, training time and throughput. Selection is on
validation only; the test file is never used to choose anything. Target (issue #4, Balanced preset on CPU):
accuracy >= 0.80, macro-F1 >= 0.60, training <= 5 minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import DATA_DIR_ENV, load_settings
from core.db import open_database
from core.services.sample import load_sample_dataset
from core.services.training import run_progress, start_training
from core.training.config import PRESETS
from core.training.device import DeviceInfo, choose_device
from core.training.job import run_training_job
from core.training.runner import claim_next_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="Balanced", choices=list(PRESETS))
    parser.add_argument("--threads", type=int, default=None, help="default: as the app (all cores but one)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--augment", action="store_true", help="augment small classes (off in every preset)")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast, even where the CPU has it")
    args = parser.parse_args()

    config = PRESETS[args.preset]
    changes = {
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "max_tokens": args.max_tokens,
        "augment_small_classes": True if args.augment else None,
        "mixed_precision": False if args.fp32 else None,
    }
    config = dataclasses.replace(config, **{k: v for k, v in changes.items() if v is not None})
    device = choose_device()
    if args.threads:
        device = dataclasses.replace(device, threads=args.threads)

    def chooser() -> DeviceInfo:
        return device

    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="bench-train-")
    settings = load_settings()
    db = open_database(settings)
    sample = load_sample_dataset(db)
    run_id = start_training(db, sample.id, config, preset=args.preset)
    claim_next_run(db)
    print(f"preset {args.preset}: {config}\ndevice: {device.describe()}", flush=True)
    started = time.perf_counter()
    status = run_training_job(run_id, db, runs_dir=settings.runs_dir, device_chooser=chooser)
    total = time.perf_counter() - started
    progress = run_progress(db, run_id)
    metrics = progress.metrics
    if status.value != "succeeded":
        raise SystemExit(f"run {status.value}: {progress.summary.error}")
    test, validation = metrics["test"], metrics["validation"]
    print(
        f"test accuracy {test['accuracy']:.3f}, test macro-F1 {test['macro_f1']:.3f} "
        f"(n={test['size']}); validation macro-F1 {validation['macro_f1']:.3f} (n={validation['size']}); "
        f"best epoch {metrics['best_epoch']}"
    )
    print(
        f"training {metrics['train_seconds']:.0f} s at {metrics['samples_per_second']:.1f} samples/s; "
        f"whole job (load, train, score, predict all {sample.records} reviews, save) {total:.0f} s"
    )
    print("per class (test):", {k: round(v["f1"], 3) for k, v in test["per_class"].items()})


if __name__ == "__main__":
    main()
