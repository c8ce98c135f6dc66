"""Runs one queued training run in a separate process under a memory ceiling (tests/integration/
test_job_lifecycle.py): `python -m tests.job_child DATABASE_URL RUNS_DIR RUN_ID HEADROOM_MB`.

The ceiling (RLIMIT_AS) is set after the imports, at what the process already maps plus HEADROOM_MB,
so the job itself, not Python's start-up, is what runs out of memory.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import torch

from core.db import Database
from core.training.device import choose_device
from core.training.job import run_training_job
from core.training.runner import claim_next_run


def main() -> None:
    url, runs_dir, run_id, headroom_mb = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(1)
    torch.ones(1).add_(1)  # the thread pool and allocator start before the ceiling
    db = Database(url)
    assert claim_next_run(db) == run_id
    mapped = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (mapped + headroom_mb * 2**20, resource.RLIM_INFINITY))
    status = run_training_job(
        run_id, db, runs_dir=runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True)
    )
    print(status.value, flush=True)


if __name__ == "__main__":
    main()
