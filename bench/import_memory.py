"""Time and peak memory of importing a 1,000,000-row CSV (issue #13).

    python bench/import_memory.py [--rows 1000000] [--emoji]

Writes a CSV of short generated reviews (id, review, rating; --emoji ends each with one) to a temporary folder, then, in a fresh
process that holds nothing else, reads it as an upload would arrive (bytes in memory), validates it and
writes it into a new SQLite database. Peak memory is the process's resident size sampled every 20 ms,
above what it held before the file was read, with the uploaded bytes counted. Bar: peak <= 3x the file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import synthetic_short_csv  # noqa: E402

MEMORY_BAR = 3.0


def resident_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(path: Path) -> None:
    """Runs in the child process: import the file, print seconds and peak memory per phase."""
    from core.config import DATA_DIR_ENV, load_settings
    from core.db import open_database
    from core.importing.plan import build_import_plan, guess_mapping
    from core.importing.reader import read_table
    from core.services.importing import import_dataset

    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="bench-import-memory-")
    os.environ.pop("DATABASE_URL", None)
    db = open_database(load_settings())
    baseline = resident_mib()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], resident_mib())
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    raw = path.read_bytes()
    table = read_table(raw, path.name)
    read_s = time.perf_counter() - started
    plan = build_import_plan(table, guess_mapping(table))
    del table
    plan_s = time.perf_counter() - started
    summary = import_dataset(db, plan, name="bench", source_filename=path.name)
    total_s = time.perf_counter() - started
    done.set()
    size_mib = len(raw) / 2**20
    grown = peak[0] - baseline
    ratio = grown / size_mib
    print(f"file: {summary.records:,} records imported, {size_mib:.0f} MiB")
    print(
        f"time: {total_s:.1f} s (read {read_s:.1f} s, validate {plan_s - read_s:.1f} s, write {total_s - plan_s:.1f} s)"
    )
    print(
        f"peak memory: {grown:,.0f} MiB above the process's start = {ratio:.1f}x the file  "
        f"[bar <= {MEMORY_BAR:.0f}x: {'PASS' if ratio <= MEMORY_BAR else 'FAIL'}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--emoji", action="store_true", help="end every review with an emoji")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="bench-import-memory-") as folder:
        path = Path(folder) / "reviews.csv"
        synthetic_short_csv(path, args.rows, emoji=args.emoji)
        # A fresh process, so what writing the file allocated does not hide the import's own peak.
        subprocess.run([sys.executable, __file__, "--measure", str(path)], check=True)


if __name__ == "__main__":
    main()
