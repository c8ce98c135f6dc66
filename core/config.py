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
# The model "Try the demo" fine-tunes: a Hugging Face id or a folder; empty means the bundled MiniLM.
# Tests point it at a tiny BERT so the whole demo path runs in seconds.
DEMO_MODEL_ENV = "REVIEW_STUDIO_DEMO_MODEL"
# Where trained models are written and read: a folder the app and every training worker can reach (a
# shared volume), when they run on different machines. Default: <data dir>/runs.
RUNS_DIR_ENV = "REVIEW_STUDIO_RUNS_DIR"
# The one folder a user's own model folders may be loaded from (Train → Advanced → model). Anything named
# outside it is refused, so a model field cannot point the server at arbitrary paths. Default:
# <data dir>/models.
LOCAL_MODELS_ENV = "REVIEW_STUDIO_LOCAL_MODELS"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    run_jobs: bool = True
    demo_model: str | None = None
    models_dir: Path | None = None
    local_models: Path | None = None

    @property
    def runs_dir(self) -> Path:
        return self.models_dir or self.data_dir / "runs"

    @property
    def local_models_dir(self) -> Path:
        return self.local_models or self.data_dir / "models"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get(DATA_DIR_ENV) or PROJECT_ROOT / "data").resolve()
    database_url = env.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir / 'app.db'}"
    run_jobs = env.get(RUN_JOBS_ENV, "1").strip().lower() not in {"0", "false", "no"}
    demo_model = env.get(DEMO_MODEL_ENV, "").strip() or None
    models_dir = Path(env[RUNS_DIR_ENV]).resolve() if env.get(RUNS_DIR_ENV, "").strip() else None
    local_models = Path(env[LOCAL_MODELS_ENV]).resolve() if env.get(LOCAL_MODELS_ENV, "").strip() else None
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        run_jobs=run_jobs,
        demo_model=demo_model,
        models_dir=models_dir,
        local_models=local_models,
    )
