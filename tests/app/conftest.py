from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import PASSWORD_ENV
from core.config import DATA_DIR_ENV, DATABASE_URL_ENV, RUN_JOBS_ENV, Settings, load_settings
from core.db import Database, open_database

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP_TIMEOUT_S = 60


@pytest.fixture
def app_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the app at a fresh data folder; the cached engine is keyed by URL, so each test is isolated."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    # Pages may queue runs here; training itself is tested in tests/integration and tests/e2e.
    monkeypatch.setenv(RUN_JOBS_ENV, "0")
    # The password gate is off unless a test turns it on (tests/app/test_gate.py).
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return load_settings()


@pytest.fixture
def app_db(app_settings: Settings) -> Database:
    return open_database(app_settings)


@pytest.fixture
def make_app(app_settings: Settings) -> Callable[[str], AppTest]:
    def make(path: str) -> AppTest:
        return AppTest.from_file(str(PROJECT_ROOT / path), default_timeout=APP_TIMEOUT_S)

    return make
