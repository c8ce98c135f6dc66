"""Every importer corpus test is held to a time and a peak-memory budget as well as its outcome.

A hostile file must fail (or succeed) fast and small: a zip bomb that is refused only after it has been
inflated, or a deep JSON document refused after a minute of work, would pass an outcome-only test.
Memory is Python's own allocations (tracemalloc), which is where a parser's copies of a file live.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

# defusedxml, openpyxl and pyarrow are imported here, before any clock starts: the first Parquet or
# Excel test would otherwise pay for loading them (2.8 s once on a busy CI machine), not the file's doing.
import defusedxml  # noqa: F401
import openpyxl  # noqa: F401
import pyarrow.parquet  # noqa: F401
import pytest

DEFAULT_SECONDS = 2.0
DEFAULT_MB = 32.0


@pytest.fixture(autouse=True)
def import_budget(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("budget")
    seconds = marker.kwargs.get("seconds", DEFAULT_SECONDS) if marker else DEFAULT_SECONDS
    megabytes = marker.kwargs.get("mb", DEFAULT_MB) if marker else DEFAULT_MB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed <= seconds, f"took {elapsed:.2f} s, over its {seconds} s budget"
    assert peak / 2**20 <= megabytes, f"peaked at {peak / 2**20:.1f} MiB, over its {megabytes} MiB budget"
