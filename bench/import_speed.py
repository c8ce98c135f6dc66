"""Import speed and Datasets-page render time on a generated 100,000-row CSV.

    python bench/import_speed.py [--rows 100000]

Prints: seconds to read + validate + write the file into a fresh SQLite database, and the server-side
render time of the Datasets page for that dataset (Streamlit AppTest, median of several runs).
Bars (issue #2): import <= 5 s, page render <= 1 s, on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import synthetic_csv  # noqa: E402

from core.config import DATA_DIR_ENV, load_settings  # noqa: E402
from core.db import open_database  # noqa: E402
from core.importing.plan import build_import_plan, guess_mapping  # noqa: E402
from core.importing.reader import read_table  # noqa: E402
from core.services.datasets import get_dataset_overview, list_records  # noqa: E402
from core.services.importing import import_dataset  # noqa: E402

IMPORT_BAR_S = 5.0
RENDER_BAR_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--render-runs", type=int, default=5)
    args = parser.parse_args()

    raw = synthetic_csv(args.rows)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ[DATA_DIR_ENV] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    db = open_database(load_settings())
    print(f"file: {args.rows:,} rows, {len(raw) / 2**20:.1f} MiB CSV; cpu cores: {os.cpu_count()}")

    started = time.perf_counter()
    table = read_table(raw, "bench.csv")
    parsed = time.perf_counter()
    plan = build_import_plan(table, guess_mapping(table))
    planned = time.perf_counter()
    summary = import_dataset(db, plan, name="bench", source_filename="bench.csv")
    finished = time.perf_counter()
    total = finished - started
    print(
        f"import: {total:.2f} s total (read {parsed - started:.2f} s, validate {planned - parsed:.2f} s, "
        f"write {finished - planned:.2f} s) for {summary.records:,} records  [bar <= {IMPORT_BAR_S:.0f} s: "
        f"{'PASS' if total <= IMPORT_BAR_S else 'FAIL'}]"
    )

    service_times = []
    for _ in range(args.render_runs):
        t0 = time.perf_counter()
        get_dataset_overview(db, summary.id)
        list_records(db, summary.id, limit=50)
        service_times.append(time.perf_counter() - t0)
    print(
        f"datasets page queries (overview + first page): median {statistics.median(service_times) * 1000:.0f} ms"
    )

    from streamlit.testing.v1 import AppTest

    render_times = []
    app = AppTest.from_file(str(PROJECT_ROOT / "app_pages" / "datasets.py"), default_timeout=60)
    app.run()  # warm-up: imports, engine, caches
    for _ in range(args.render_runs):
        t0 = time.perf_counter()
        app.run()
        render_times.append(time.perf_counter() - t0)
        if app.exception:
            raise SystemExit(f"page raised: {app.exception}")
    median = statistics.median(render_times)
    print(
        f"datasets page render (server side, AppTest, {args.render_runs} runs): median {median:.2f} s, "
        f"max {max(render_times):.2f} s  [bar <= {RENDER_BAR_S:.0f} s: {'PASS' if median <= RENDER_BAR_S else 'FAIL'}]"
    )


if __name__ == "__main__":
    main()
