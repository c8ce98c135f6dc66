"""The investor demo in Chromium: Try the demo on an empty app, then the guided tour to a heatmap.

The demo fine-tunes whatever REVIEW_STUDIO_DEMO_MODEL names; here a tiny BERT, so the path runs in
seconds. bench/demo_path.py times the same clicks with the bundled MiniLM.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.config import DEMO_MODEL_ENV
from core.db import Database
from core.models import RunStatus
from core.services.training import list_runs
from tests.e2e.conftest import screenshot
from tests.e2e.server import streamlit_server
from tests.e2e.test_labeling_keyboard import annotations_by, wait_for_rows

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def app_url(data_dir: Path, tiny_model: str) -> Iterator[str]:
    with streamlit_server(data_dir, {DEMO_MODEL_ENV: tiny_model}) as url:
        yield url


def idle(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)


def tour_card(page: Page, step: int) -> None:
    expect(page.get_by_text(f"Guided tour · step {step} of 4")).to_be_visible(timeout=TIMEOUT_MS)


def next_step(page: Page) -> None:
    idle(page)
    page.get_by_role("button", name="Next", exact=True).click()


def test_try_the_demo_and_follow_the_tour_to_a_heatmap(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Review Studio", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Use your own reviews")).to_be_visible()
    idle(page)
    screenshot(page, "home-empty")
    page.get_by_role("button", name="Try the demo").click()

    # Step 1: labeling as the guest, while the demo's run trains.
    expect(page.get_by_role("heading", name="Label", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    tour_card(page, 1)
    expect(page.get_by_role("combobox", name="Annotator")).to_have_value("Guest")
    [run] = list_runs(app_db)
    assert (run.preset, run.model_source) == ("Quick", tiny_model)
    # The page opened before any review was embedded; its note polls, and the suggestion arrives
    # without a key press. Enter accepts it.
    # .first: while the poll reruns the page, the old note and the new suggestion can both be there.
    expect(page.get_by_text(re.compile(r"^Suggested: ")).first).to_be_visible(timeout=TIMEOUT_MS)
    idle(page)
    page.keyboard.press("Enter")
    assert len(wait_for_rows(lambda: annotations_by(app_db, "Guest"), count=1)) == 1
    for count in range(2, 6):
        idle(page)
        expect(page.get_by_text(re.compile(r"^Review #\d+( ·|$)")).first).to_be_visible(timeout=TIMEOUT_MS)
        page.keyboard.press("1")
        assert len(wait_for_rows(lambda: annotations_by(app_db, "Guest"), count=count)) == count
    expect(page.get_by_text("Nicely done.")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "demo-label")

    # Step 2: the run, finished with its scores next to the keyword model's.
    next_step(page)
    tour_card(page, 2)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(rf"Latest run #{run.id} · .*succeeded"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    assert list_runs(app_db)[0].status == RunStatus.SUCCEEDED
    expect(page.get_by_text(re.compile(rf"Run #{run.id} finished"))).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "demo-train")

    # Step 3: the confusion matrix and the list of the biggest mistake.
    next_step(page)
    tour_card(page, 3)
    expect(page.get_by_text("Where it goes wrong")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".js-plotly-plot .scatterlayer .point").first).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "demo-results")

    # Step 4: a review explained, words highlighted.
    next_step(page)
    tour_card(page, 4)
    expect(page.get_by_role("heading", name="What pushed the decision")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Integrated gradients over \d+ tokens"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    idle(page)
    screenshot(page, "demo-explain")
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text(re.compile(r"Guided tour · step"))).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_text("Tour finished.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).not_to_have_url(re.compile(r"tour="), timeout=TIMEOUT_MS)

    # Home now shows the sample at a glance, the demo's run against its baselines, and the guest's
    # five labels (given while the run trained) as a reason to train again.
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_text("5 labels since the latest model.")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Latest model against simple baselines")).to_be_visible()
    expect(page.get_by_text("Looking for what would help most")).to_have_count(0, timeout=TIMEOUT_MS)
    idle(page)
    screenshot(page, "home-full")
