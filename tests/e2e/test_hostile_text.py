"""Review text, label names and a dataset name carrying markup stay text on every page that shows them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.services.importing import choose_test_indices, import_dataset
from core.services.training import start_training
from tests.e2e.conftest import record_dialogs, screenshot
from tests.integration.training_helpers import tiny_config, wait_until_succeeded

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000
IMG = '<img src=x onerror="window.__pwned=1;alert(1)">'
SCRIPT = "<script>window.__pwned=2</script>"
LINK = "[click me](javascript:window.__pwned=3)"
DATASET_NAME = "<b onmouseover=alert(4)>hostile</b>"
BAD_LABEL = "<i>bad</i>"


def hostile_dataset(db: Database) -> int:
    rows = []
    for i in range(60):
        payload = (IMG, SCRIPT, LINK)[i % 3]
        label = "good" if i % 2 else BAD_LABEL
        rows.append(f'"{payload.replace(chr(34), chr(34) * 2)} review {i} works well",{label}')
    table = read_table(("review,label\n" + "\n".join(rows) + "\n").encode(), "hostile.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    return import_dataset(
        db,
        plan,
        name=DATASET_NAME,
        source_filename=None,
        test_indices=choose_test_indices(plan, test_share=0.25, seed=2),
    ).id


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def wait_idle(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)


def test_markup_never_runs_on_label_results_predict_and_explain(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    dialogs = record_dialogs(page)
    page.goto(app_url)  # the first page view starts the server's runner thread
    expect(page.get_by_role("link", name="Results")).to_be_visible(timeout=TIMEOUT_MS)
    dataset_id = hostile_dataset(app_db)
    run_id = start_training(app_db, dataset_id, tiny_config(tiny_model, epochs=1), preset="Quick")
    wait_until_succeeded(app_db, run_id)
    page.reload()
    page.get_by_role("combobox", name="Dataset").click()
    page.get_by_role("option", name=DATASET_NAME).click()
    wait_idle(page)

    page.get_by_role("link", name="Label").click()
    page.get_by_role("radio", name="Browse").click()
    expect(page.get_by_text(re.compile(r"^\d+ matching reviews"))).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert_nothing_ran(page, dialogs)

    page.get_by_role("link", name="Results").click()
    expect(page.get_by_text("Where it goes wrong")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(BAD_LABEL).filter(visible=True).first).to_be_visible()  # a label name, as typed
    wait_idle(page)
    screenshot(page, "hostile-results")
    assert_nothing_ran(page, dialogs)

    page.get_by_role("link", name="Predict").click()
    box = page.get_by_placeholder("Paste or type a review…")
    box.fill(f"{IMG} {SCRIPT}")
    box.press("Control+Enter")
    expect(page.get_by_text("Predicted label")).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    assert_nothing_ran(page, dialogs)

    page.get_by_role("link", name="Explain").click()
    expect(page.get_by_role("heading", name="What pushed the decision")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Integrated gradients over \d+ tokens"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    wait_idle(page)
    # Review #1 carries the <img> payload: its pieces show as text in the highlighted review (its
    # middle, "onerror", is past the tiny model's 32 tokens and sits greyed in the part not read).
    expect(page.get_by_text("pwned").first).to_be_visible()
    screenshot(page, "hostile-explain")
    assert_nothing_ran(page, dialogs)
