"""A newcomer's first minutes, in Debian's Chromium against `streamlit run app.py`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000
HOSTILE_CSV = (
    b"id,review,rating\n"
    b'1,"<img src=x onerror=""window.__pwned=1"">",positive\n'
    b'2,"<script>window.__pwned=2</script> nice",negative\n'
    b'3,"javascript:window.__pwned=3",neutral\n'
    b"4,,negative\n"
    b"5,too,many,fields\n"
)


def open_app(page: Page, url: str) -> None:
    page.goto(f"{url}/datasets")
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible(timeout=TIMEOUT_MS)


def test_sample_upload_and_annotator(page: Page, app_url: str, tmp_path: Path) -> None:
    open_app(page, app_url)
    expect(page.get_by_text("Bring your reviews")).to_be_visible()
    screenshot(page, "datasets-empty")

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Load sample dataset").click()
    expect(page.get_by_text("Held-out test")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("979")
    expect(page.get_by_text("979 reviews · 100% labeled · 3 labels")).to_be_visible()
    screenshot(page, "datasets-sample")

    # A real upload through the browser, with markup that must stay text.
    upload = tmp_path / "hostile reviews.csv"
    upload.write_bytes(HOSTILE_CSV)
    page.get_by_text("Import a file").click()
    page.locator("input[type=file]").set_input_files(str(upload))
    expect(page.get_by_text("Validation report")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("These rows will be left out")).to_be_visible()
    screenshot(page, "datasets-import-report")
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Import 3 reviews").click()
    expect(page.get_by_role("heading", name="hostile reviews")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Browse reviews").click()
    expect(page.get_by_text("Reviews 1–3 of 3")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0
    screenshot(page, "datasets-hostile-imported")
    page.get_by_role("tab", name="Label set").click()
    expect(page.get_by_role("button", name="Save label set")).to_be_visible()
    screenshot(page, "datasets-label-set")
    page.get_by_role("tab", name="Settings").click()
    expect(page.get_by_role("button", name="Delete dataset")).to_be_disabled()
    screenshot(page, "datasets-settings")

    # The sidebar's annotator form, drawn by app.py itself.
    page.get_by_role("button", name="Add annotator").click()
    page.get_by_placeholder("e.g. Alex").fill("Alex")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("combobox", name="Annotator")).to_have_value("Alex", timeout=TIMEOUT_MS)
    # Raised just before the rerun that shows the new annotator, the toast survives it.
    expect(page.get_by_text("Added Alex; labels you give now are theirs.")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "datasets-annotator")


def test_every_page_opens_without_error(page: Page, app_url: str) -> None:
    open_app(page, app_url)
    for title in ("Label", "Train", "Results", "Predict", "Explain"):  # every page, empty or not
        page.get_by_role("link", name=title).click()
        heading = page.get_by_role("heading", name=re.compile(rf"(^|\s){title}$"))  # "Train", not "Training"
        expect(heading).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        screenshot(page, f"page-{title.lower()}")
