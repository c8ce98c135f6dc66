"""Training from the browser: start a run, watch it live, see scores and the confusion matrix, cancel one.

The model is a tiny BERT typed into Advanced → Model, so the flow runs in seconds; the bundled
MiniLM goes through exactly the same code (see bench/ for its timings and scores).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from core.db import Database
from core.sample_data import SAMPLE_NAME
from core.services.datasets import list_datasets
from core.services.sample import load_sample_dataset
from core.services.training import list_runs, run_progress
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 120_000


def start_run(page: Page, db: Database, model: str, epochs: int) -> None:
    model_box = open_advanced(page)
    expect(page.get_by_role("spinbutton", name="Passes over the data")).to_have_count(1, timeout=TIMEOUT_MS)
    model_box.fill(model)
    model_box.press("Tab")
    # The rerun that Tab starts can briefly show the old Advanced panel beside the new one: act only
    # once the page is idle and the field is there exactly once.
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    epochs_box = page.get_by_role("spinbutton", name="Passes over the data")
    expect(epochs_box).to_have_count(1, timeout=TIMEOUT_MS)
    epochs_box.fill(str(epochs))
    expect(epochs_box).to_have_count(1, timeout=TIMEOUT_MS)
    epochs_box.press("Tab")
    before = len(list_runs(db))
    click_until(page, "Start training", lambda: len(list_runs(db)) > before)


def open_advanced(page: Page) -> Locator:
    """Open the Advanced panel and return its model field. A click that lands while the page reruns
    can be lost, and a second click would close the panel again: click only while the field is hidden."""
    model_box = page.get_by_placeholder("Bundled MiniLM-L6 (works offline)")
    for _attempt in range(4):
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
        if model_box.is_visible():
            break
        page.get_by_text("Advanced", exact=True).click()
        try:
            expect(model_box).to_be_visible(timeout=5_000)
        except AssertionError:
            continue
    expect(model_box).to_be_visible()
    return model_box


def click_until(page: Page, button: str, happened: Callable[[], bool]) -> None:
    """Click `button` until `happened()` holds, as read back from the database.

    A click that lands while earlier typing (or a slider's debounced value) still reruns the page can be
    dropped by the browser. Starting a run or a search is idempotent (the same request returns the same
    row), so clicking again is safe.
    """
    for _attempt in range(4):
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
        if happened():  # a late one: the button may be gone by now
            return
        page.get_by_role("button", name=button).click()
        deadline = time.monotonic() + 10
        while not happened() and time.monotonic() < deadline:
            time.sleep(0.2)
    if happened():
        return
    raise AssertionError(f"the {button} click never took effect")


def test_train_watch_and_cancel(page: Page, app_url: str, app_db: Database, tiny_model: str) -> None:
    if not any(d.name == SAMPLE_NAME for d in list_datasets(app_db)):
        load_sample_dataset(app_db)
    page.goto(app_url)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("radio", name="Quick").click()
    start_run(page, app_db, tiny_model, epochs=2)
    expect(page.get_by_text(re.compile(r"Latest run #\d+ · .*succeeded"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Test macro-F1").first).to_be_visible()
    expect(page.get_by_text("Test confusion matrix")).to_be_visible()
    screenshot(page, "train-finished")

    start_run(page, app_db, tiny_model, epochs=40)
    expect(page.get_by_text(re.compile(r"step \d+ of \d+"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the live loss curve
    screenshot(page, "train-running")
    running = list_runs(app_db)[0]
    click_until(page, "Cancel", lambda: run_progress(app_db, running.id).cancel_requested)
    expect(
        page.get_by_text(f"Cancelling run #{running.id}; it stops within a second or two.")
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"Latest run #\d+ · .*cancelled"))).to_be_visible(timeout=30_000)
    screenshot(page, "train-cancelled")
    statuses = [run.status.value for run in list_runs(app_db)]
    assert statuses[:2] == ["cancelled", "succeeded"]
    # The app's own navigation and sidebar are still there after all the live refreshes.
    expect(page.get_by_role("link", name="Datasets")).to_be_visible()
    expect(page.get_by_role("combobox", name="Dataset")).to_be_visible()
    expect(page.get_by_role("link", name="app")).to_have_count(0)


def test_settings_search_runs_its_trials_and_shows_the_best(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    from core.services.search import latest_search

    if not any(d.name == SAMPLE_NAME for d in list_datasets(app_db)):
        load_sample_dataset(app_db)
    page.goto(app_url)
    page.get_by_role("link", name="Train").click()
    expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("radio", name="Quick").click()
    model_box = open_advanced(page)
    model_box.fill(tiny_model)
    model_box.press("Tab")
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    slider = page.get_by_role("slider")
    for _attempt in range(4):  # a click that lands while the page reruns can be lost: open it again
        if slider.is_visible():
            break
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
        page.get_by_text("Search for better settings").click()
        try:
            expect(slider).to_be_visible(timeout=5_000)
        except AssertionError:
            continue
    expect(slider).to_be_visible()
    slider.focus()
    for _ in range(4):  # 6 trials by default; two are enough here
        slider.press("ArrowLeft")
    expect(slider).to_have_attribute("aria-valuetext", "2")
    sample = next(d for d in list_datasets(app_db) if d.name == SAMPLE_NAME)
    click_until(page, "Start search", lambda: latest_search(app_db, sample.id) is not None)
    expect(page.get_by_text(re.compile(r"Settings search #\d+"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"finished: 2 of 2 trials"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Best: trial \d"))).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_text(re.compile(r"Settings search #\d+")).scroll_into_view_if_needed()
    screenshot(page, "train-search")
    report = latest_search(app_db, sample.id)
    assert report is not None and report.finished and len(report.trials) == 2
    assert all(t.status.value == "succeeded" for t in report.trials)
