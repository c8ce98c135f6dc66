from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from core.config import Settings
from core.db import Database, open_database
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, PROJECT_ROOT, streamlit_server

# Screenshots land here for a person to look at (git-ignored).
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))
BROWSER_TIMEZONE = "Pacific/Auckland"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The running app's data folder: tests may seed it and read it back through core services."""
    return tmp_path_factory.mktemp("e2e") / "data"


@pytest.fixture(scope="module")
def app_url(data_dir: Path) -> Iterator[str]:
    with streamlit_server(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def app_db(data_dir: Path, app_url: str) -> Iterator[Database]:
    """The same SQLite file the server uses (WAL lets both processes read and write)."""
    database = open_database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.db'}"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}; `make install-test` installs Debian's chromium.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # E2E_COLOR_SCHEME=dark runs the journeys (and their screenshots) in the dark theme.
    scheme: Literal["dark", "light"] = "dark" if os.environ.get("E2E_COLOR_SCHEME") == "dark" else "light"
    # The browser sits far from UTC, as the test PostgreSQL server does: 'today' and clock times must be
    # the person's own, and a journey that assumed UTC would fail here for half of each day.
    context = browser.new_context(
        viewport={"width": 1440, "height": 1100}, color_scheme=scheme, timezone_id=BROWSER_TIMEZONE
    )
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def record_dialogs(page: Page) -> list[str]:
    """Every alert/confirm the page opens, dismissed and kept: a hostile-text test asserts there are none."""
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs
