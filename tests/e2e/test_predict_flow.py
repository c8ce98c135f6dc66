"""Predict in the browser: a typed review, then a file run through the model and downloaded safely."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from core.db import Database
from tests.e2e.conftest import screenshot
from tests.e2e.test_results_flow import finished_run

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 120_000  # the first prediction loads the model while the server also embeds the sample


def test_playground_and_batch_download(
    page: Page, app_url: str, app_db: Database, tiny_model: str, tmp_path: Path
) -> None:
    page.goto(app_url)  # the first page view starts the server's runner thread
    expect(page.get_by_role("link", name="Predict")).to_be_visible(timeout=TIMEOUT_MS)
    run_id = finished_run(app_db, tiny_model)
    page.reload()
    page.get_by_role("link", name="Predict").click()
    box = page.get_by_placeholder("Paste or type a review…")
    expect(box).to_be_visible(timeout=TIMEOUT_MS)
    box.fill("This medicine <img src=x onerror=alert(1)> worked wonders for my migraines.")
    page.get_by_role(
        "button", name="Predict", exact=True
    ).click()  # what a newcomer presses; Ctrl+Enter works too
    expect(page.get_by_text("Predicted label")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Answered in \d+ ms"))).to_be_visible()
    screenshot(page, "predict-playground")

    upload = tmp_path / "new-reviews.csv"
    upload.write_text(
        "id,review,label\n"
        "1,Great relief within a day,positive\n"
        '2,=HYPERLINK("http://evil"),meh\n'  # a label the model does not know: not scored
        "3,-10 stars: made me dizzy,negative\n"
        "4,@here terrible,negative\n"
    )
    page.get_by_role("tab", name="Predict a file").click()
    page.locator("input[type=file]").set_input_files(str(upload))
    predict = page.get_by_role("button", name="Predict 4 reviews")
    expect(predict).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    predict.click()
    expect(page.get_by_text(re.compile(r"Predicted 4 reviews in"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "predict-batch")
    # A callable file is built on the click; on a loaded machine that can pass the 30 s default.
    with page.expect_download(timeout=TIMEOUT_MS) as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"new-reviews-predictions-run{run_id}.csv"
    frame = pd.read_csv(io.BytesIO(Path(download.path()).read_bytes()), encoding="utf-8-sig")
    assert frame["id"].tolist() == [1, 2, 3, 4]  # numbers stay numbers
    assert frame["text"].tolist()[1:] == [
        '\'=HYPERLINK("http://evil")',
        "'-10 stars: made me dizzy",
        "'@here terrible",
    ]
    assert set(frame["predicted_label"]) <= {"negative", "neutral", "positive"}
    # The file had labels, so the page scores the model on the three rows whose label it knows.
    known = frame[frame["label"] != "meh"]
    agreement = (known["label"] == known["predicted_label"]).mean()
    # .first: while a rerun finishes, Streamlit can briefly show the old copy of a line beside the new one.
    expect(
        page.get_by_text(f"The file has labels: the model agrees with {agreement:.0%} of 3").first
    ).to_be_visible()
    assert all(0 <= c <= 1 for c in frame["confidence"])
