"""Settings read from the environment, once per caller, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "REVIEW_STUDIO_DATA_DIR"
DATABASE_URL_ENV = "DATABASE_URL"
# "0" keeps this process from running training jobs (tests of pages that only queue them).
RUN_JOBS_ENV = "REVIEW_STUDIO_RUN_JOBS"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    run_jobs: bool = True

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get(DATA_DIR_ENV) or PROJECT_ROOT / "data").resolve()
    database_url = env.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir / 'app.db'}"
    run_jobs = env.get(RUN_JOBS_ENV, "1").strip().lower() not in {"0", "false", "no"}
    return Settings(data_dir=data_dir, database_url=database_url, run_jobs=run_jobs)
