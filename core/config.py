"""Settings read from the environment, once per caller, never at import time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "REVIEW_STUDIO_DATA_DIR"
DATABASE_URL_ENV = "DATABASE_URL"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str

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
    return Settings(data_dir=data_dir, database_url=database_url)
