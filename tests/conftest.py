from __future__ import annotations

import os

# No test may reach a model hub: this machine (and CI) has no network beyond package registries.
# Set before anything imports huggingface_hub, which reads it once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings
from core.db import Database, open_database

CORPUS = Path(__file__).resolve().parent / "fixtures" / "importer"


@pytest.fixture
def corpus() -> Path:
    return CORPUS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "data"
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.db'}")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()
