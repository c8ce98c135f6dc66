"""From a finished run to a wrong prediction in the browser: click a confusion cell, open a review, relabel it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from core.db import Database
from core.models import Annotation, Annotator, LabelClass
from core.sample_data import SAMPLE_NAME
from core.services.annotators import add_annotator
from core.services.datasets import list_datasets
from core.services.results import run_scores, scored_records
from core.services.sample import load_sample_dataset
from core.services.training import start_training
from tests.e2e.conftest import screenshot
from tests.e2e.test_labeling_keyboard import pick_annotator
from tests.integration.training_helpers import tiny_config, wait_for, wait_until_succeeded

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000


def finished_run(app_db: Database, tiny_model: str) -> int:
    sample = next((d for d in list_datasets(app_db) if d.name == SAMPLE_NAME), None)
    dataset_id = sample.id if sample is not None else load_sample_dataset(app_db).id
    run_id = start_training(app_db, dataset_id, tiny_config(tiny_model, epochs=1), preset="Quick")
    # The server's own runner thread picks the run up from the database.
    wait_until_succeeded(app_db, run_id)
    return run_id


def test_click_a_wrong_cell_and_relabel_a_review(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    page.goto(app_url)  # the first page view starts the server's runner thread
    expect(page.get_by_role("link", name="Results")).to_be_visible(timeout=TIMEOUT_MS)
    run_id = finished_run(app_db, tiny_model)
    scores = run_scores(app_db, run_id)
    size = len(scores.labels)
    # The off-diagonal cell with the most reviews: a place where the model is wrong.
    wrong = max(
        ((i, j) for i in range(size) for j in range(size) if i != j),
        key=lambda ij: scores.confusion[ij[0]][ij[1]],
    )
    true_label, predicted_label = scores.labels[wrong[0]], scores.labels[wrong[1]]
    cell = scored_records(app_db, run_id, true_label=true_label, predicted_label=predicted_label)
    assert cell, "the tiny model gets something wrong on the sample"
    add_annotator(app_db, "Rae")

    page.reload()
    pick_annotator(page, "Rae")
    page.get_by_role("link", name="Results").click()
    expect(page.get_by_text("Where it goes wrong")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "results-run")

    def cell_title(count: int, true: str, predicted: str, verdict: str) -> Locator:
        title = re.compile(rf"^{count} reviews labeled {true}, predicted {predicted} \({verdict}\)")
        return page.get_by_test_id("stMarkdown").filter(has_text=title)

    def click_cell(row: int, column: int, expected: Locator) -> None:
        # A click that lands while the page still reruns can be lost; selecting a cell is idempotent,
        # so click again until its list shows.
        for _attempt in range(4):
            if expected.is_visible():
                break
            expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
            page.mouse.move(0, 0)  # no hover label left over the next square
            square = page.locator(".js-plotly-plot .scatterlayer .point").nth(row * size + column)
            square.scroll_into_view_if_needed()  # the comparison with simple models sits above the matrix
            square_box = square.bounding_box()
            assert square_box is not None
            # Plotly's drag layer sits on top of the points and turns a click at a point into its selection.
            page.mouse.click(
                square_box["x"] + square_box["width"] / 2, square_box["y"] + square_box["height"] / 2
            )
            try:
                expect(expected).to_be_visible(timeout=10_000)
                break
            except AssertionError:
                continue
        expect(expected).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)

    # The page opens on the biggest mistake; a click on a diagonal cell lists the right answers instead.
    expect(cell_title(len(cell), true_label, predicted_label, "wrong")).to_be_visible(timeout=TIMEOUT_MS)
    diagonal = scores.labels[wrong[1]]
    click_cell(
        wrong[1], wrong[1], cell_title(scores.confusion[wrong[1]][wrong[1]], diagonal, diagonal, "right")
    )
    click_cell(*wrong, cell_title(len(cell), true_label, predicted_label, "wrong"))
    relabel = page.get_by_role("button", name=predicted_label, exact=True)
    for _attempt in range(4):  # as with the cells: a click during a rerun can be lost
        if relabel.is_visible():
            break
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
        page.mouse.move(0, 0)  # a chart's hover label can lie over the grid's left edge
        cell_list = cell_title(len(cell), true_label, predicted_label, "wrong").locator(
            "xpath=following::*[@data-testid='stDataFrame'][1]"
        )
        cell_list.scroll_into_view_if_needed()
        box = cell_list.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 / 2)  # the first row's selection marker
        try:
            expect(relabel).to_be_visible(timeout=10_000)
        except AssertionError:
            continue
    expect(relabel).to_be_visible(timeout=TIMEOUT_MS)
    # A test review is scored against, never trained on: the note under the buttons says so.
    expect(
        page.get_by_text(re.compile(r"held out for testing: the next run is scored against"))
    ).to_be_visible()
    screenshot(page, "results-drilldown")

    def saved_by_rae() -> list[tuple[int, str]]:
        with app_db.read() as session:
            rows = session.execute(
                select(Annotation.record_id, LabelClass.name)
                .join(Annotator, Annotator.id == Annotation.annotator_id)
                .join(LabelClass, LabelClass.id == Annotation.label_class_id)
                .where(Annotator.name == "Rae")
            ).all()
        return [(record_id, name) for record_id, name in rows]

    # Saving is idempotent, so a click lost to a rerun is simply repeated; the database is the judge
    # (the "Saved" toast fades after a few seconds and is easy to miss on a busy machine).
    for _attempt in range(4):
        expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
        relabel.click()
        try:
            wait_for(lambda: bool(saved_by_rae()), timeout=10)
            break
        except AssertionError:
            continue
    assert saved_by_rae() == [(cell[0].record_id, predicted_label)]
    expect(page.get_by_role("button", name=predicted_label, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_text("Error rate by review length").scroll_into_view_if_needed()
    screenshot(page, "results-confidence")

    # On to the Explain page with the same run and review.
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Explain").click()
    expect(page.get_by_role("heading", name="What pushed the decision")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Integrated gradients over \d+ tokens"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_role("spinbutton", name="Review #")).to_have_value(str(cell[0].position + 1))
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "explain")


def test_compare_two_runs_and_their_ensemble(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    page.goto(app_url)  # the first page view starts the server's runner thread
    expect(page.get_by_role("link", name="Results")).to_be_visible(timeout=TIMEOUT_MS)
    finished_run(app_db, tiny_model)
    sample = next(d for d in list_datasets(app_db) if d.name == SAMPLE_NAME)
    second = start_training(app_db, sample.id, tiny_config(tiny_model, epochs=2, seed=5), preset="Quick")
    wait_until_succeeded(app_db, second)
    page.reload()
    page.get_by_role("link", name="Results").click()
    page.get_by_role("tab", name="Compare runs").click()
    expect(page.get_by_text("Settings that differ")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    # Counted inside the open tab: the other tab's tables can linger in the page for a moment after the switch.
    tables = page.get_by_role("tabpanel", name="Compare runs").get_by_test_id("stDataFrame")
    expect(tables).to_have_count(2)  # metrics and settings
    before = tables.count()
    page.get_by_text("Evaluate the ensemble").click()
    expect(tables).to_have_count(before + 1, timeout=TIMEOUT_MS)  # the ensemble's table
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "results-compare")
