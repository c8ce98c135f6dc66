"""Keyboard labeling in Chromium: real key presses, checked against the annotation rows in SQLite."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from core.assist.embeddings import EmbeddingStore
from core.assist.refresh import DESCRIPTIONS_FILE
from core.db import Database
from core.models import Annotation, Annotator, LabelClass, Record, utcnow
from core.sample_data import SAMPLE_NAME
from core.services.annotators import add_annotator
from core.services.datasets import DatasetSummary, list_datasets
from core.services.labeling import labeling_progress, save_label
from core.services.sample import load_sample_dataset
from tests.e2e.conftest import BROWSER_TIMEZONE, screenshot
from ui.formatting import start_of_local_day

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000


def annotations_by(db: Database, name: str) -> list[tuple[int, str]]:
    """(import position, label name) of every label this annotator gave, in review order."""
    with db.read() as session:
        rows = session.execute(
            select(Record.position, LabelClass.name)
            .join(Annotation, Annotation.record_id == Record.id)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(LabelClass, LabelClass.id == Annotation.label_class_id)
            .where(Annotator.name == name)
            .order_by(Record.position)
        ).all()
    return [(position, label) for position, label in rows]


def annotator_id(db: Database, name: str) -> int:
    with db.read() as session:
        return session.scalars(select(Annotator.id).where(Annotator.name == name)).one()


def move_labels(db: Database, name: str, times: dict[int, datetime]) -> None:
    """Give this annotator's labels on the reviews at these import positions another save time."""
    person = annotator_id(db, name)
    with db.write() as session:
        for position, moment in times.items():
            session.execute(
                update(Annotation)
                .where(
                    Annotation.annotator_id == person,
                    Annotation.record_id.in_(select(Record.id).where(Record.position == position)),
                )
                .values(updated_at=moment)
            )


def wait_for_rows(read: Callable[[], list[tuple[int, str]]], *, count: int) -> list[tuple[int, str]]:
    """Poll the database until the browser's action has landed (or time runs out)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    rows = read()
    while len(rows) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = read()
    return rows


def wait_until(ready: Callable[[], bool], never: str, timeout_s: float = 3 * TIMEOUT_MS / 1000) -> None:
    """Poll a readiness signal the app owns (a file its runner writes), failing with `never`."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert time.monotonic() < deadline, never
        time.sleep(0.5)


def ensure_sample(db: Database) -> DatasetSummary:
    """The tests in this module share one server; the first one to need the sample loads it."""
    existing = next((d for d in list_datasets(db) if d.name == SAMPLE_NAME), None)
    return existing or load_sample_dataset(db)


def pick_annotator(page: Page, name: str) -> None:
    page.get_by_role("combobox", name="Annotator").click()
    page.get_by_role("option", name=name).click()
    expect(page.get_by_role("combobox", name="Annotator")).to_have_value(name)


def wait_for_review(page: Page, number: int) -> None:
    """Wait until review `number` is shown and the app is idle, so the next key press is heard."""
    expect(page.get_by_text(re.compile(rf"^Review #{number}( ·|$)"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name=re.compile(r"^positive"))).to_be_enabled()


def test_label_with_keys_then_undo(page: Page, app_url: str, app_db: Database) -> None:
    dataset = ensure_sample(app_db)
    add_annotator(app_db, "Kim")
    page.goto(app_url)
    pick_annotator(page, "Kim")
    page.get_by_role("link", name="Label").click()
    wait_for_review(page, 1)
    screenshot(page, "label-first-review")
    # A click on the page first, as a user does before typing: it focuses Streamlit's main area, and the
    # keys must not draw its grey keyboard-focus frame around the whole page.
    page.get_by_text(re.compile(r"^Review #1( ·|$)")).first.click()

    keys = list("31233132311233213213")  # 20 reviews: 1 = negative, 2 = neutral, 3 = positive
    names = {"1": "negative", "2": "neutral", "3": "positive"}
    for number, key in enumerate(keys, start=1):
        page.keyboard.press(key)
        wait_for_review(page, number + 1)
    assert annotations_by(app_db, "Kim") == [(i, names[k]) for i, k in enumerate(keys)]
    main_area = page.get_by_test_id("stMain")
    assert main_area.evaluate("m => m.matches(':focus-visible')")  # the state that drew the frame
    assert main_area.evaluate("m => getComputedStyle(m, '::before').boxShadow") == "none"

    page.keyboard.press("u")
    wait_for_review(page, len(keys))
    assert annotations_by(app_db, "Kim") == [(i, names[k]) for i, k in enumerate(keys[:-1])]
    page.keyboard.press("Control+z")
    wait_for_review(page, len(keys) - 1)
    assert annotations_by(app_db, "Kim") == [(i, names[k]) for i, k in enumerate(keys[:-2])]

    # Kim's first two labels move to either side of midnight where the browser sits (Auckland): 'today'
    # is the labeler's day. Counting from UTC's midnight instead gets one of the two wrong at any hour.
    zone = ZoneInfo(BROWSER_TIMEZONE)
    local_midnight = start_of_local_day(utcnow(), zone)
    move_labels(
        app_db, "Kim", {0: local_midnight - timedelta(minutes=1), 1: local_midnight + timedelta(minutes=1)}
    )
    before_render = utcnow()
    page.keyboard.press("s")  # skip review 7 without a label
    wait_for_review(page, len(keys))
    page.keyboard.press("ArrowLeft")
    wait_for_review(page, len(keys) - 1)
    page.keyboard.press("ArrowRight")
    wait_for_review(page, len(keys))
    assert len(annotations_by(app_db, "Kim")) == len(keys) - 2
    progress = page.get_by_text(re.compile(rf"you: {len(keys) - 2} in total, \d+ today"))
    expect(progress).to_be_visible()
    shown_today = re.search(r"(\d+) today", progress.inner_text())
    assert shown_today is not None
    days = {start_of_local_day(moment, zone) for moment in (before_render, utcnow())}
    if len(days) == 1:  # the usual case: the label from a minute before midnight is yesterday's
        assert int(shown_today.group(1)) == len(keys) - 3
    else:  # a day ended while the page counted: its count is right for one of the two days
        kim = annotator_id(app_db, "Kim")
        counts = {labeling_progress(app_db, dataset.id, kim, since=day).mine_today for day in days}
        assert int(shown_today.group(1)) in counts
    screenshot(page, "label-after-keys")


def test_agreement_view_lists_conflicts(page: Page, app_url: str, app_db: Database) -> None:
    ensure_sample(app_db)
    dataset = ensure_sample(app_db)
    first, second = add_annotator(app_db, "Ana"), add_annotator(app_db, "Ben")
    with app_db.read() as session:
        record_ids = session.scalars(
            select(Record.id).where(Record.dataset_id == dataset.id).order_by(Record.position).limit(12)
        ).all()
        label_ids = session.scalars(
            select(LabelClass.id).where(LabelClass.dataset_id == dataset.id).order_by(LabelClass.position)
        ).all()
    for index, record_id in enumerate(record_ids):
        save_label(app_db, record_id=record_id, annotator_id=first.id, label_class_id=label_ids[index % 3])
        disagree = index % 4 == 0
        save_label(
            app_db,
            record_id=record_id,
            annotator_id=second.id,
            label_class_id=label_ids[(index + disagree) % 3],
        )
    page.goto(app_url)
    page.get_by_role("link", name="Label").click()
    page.get_by_role("radio", name="Agreement").click()
    expect(page.get_by_text("Fleiss' kappa")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"Conflicts · \d+ reviews"))).to_be_visible()
    screenshot(page, "label-agreement")


def test_bulk_label_five_rows_from_the_table(page: Page, app_url: str, app_db: Database) -> None:
    ensure_sample(app_db)
    add_annotator(app_db, "Lee")
    page.goto(app_url)
    pick_annotator(page, "Lee")
    page.get_by_role("link", name="Label").click()
    page.get_by_role("radio", name="Browse").click()
    page.get_by_label("Text contains").fill("migraine")
    page.get_by_label("Text contains").press("Enter")
    expect(page.get_by_text(re.compile(r"^\d+ matching reviews"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    assert box is not None
    header, row_height = 35, 35
    for row in range(5):  # tick the row-marker checkboxes at the grid's left edge
        page.mouse.click(box["x"] + 18, box["y"] + header + row * row_height + row_height / 2)
        page.wait_for_timeout(150)
    apply = page.get_by_role("button", name="Apply to 5 reviews")
    expect(apply).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "label-browse-selected")
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    apply.click()
    labeled = wait_for_rows(lambda: annotations_by(app_db, "Lee"), count=5)
    assert len(labeled) == 5 and {label for _, label in labeled} == {"negative"}


def test_a_suggestion_on_the_first_review_and_enter_accepts_it(
    page: Page, app_url: str, app_db: Database, data_dir: Path
) -> None:
    dataset = ensure_sample(app_db)
    add_annotator(app_db, "Sam")
    # Readiness from the files the app's assist runner owns: the first shard of vectors and the
    # label meanings. Until then the page says it is still reading, which is also right.
    folder = EmbeddingStore.for_dataset(app_db, data_dir, dataset.id).folder
    wait_until(
        lambda: (folder / DESCRIPTIONS_FILE).exists() and any(folder.glob("shard-*.npz")),
        "the assist runner never embedded the sample",
    )
    page.goto(app_url)
    pick_annotator(page, "Sam")
    page.get_by_role("link", name="Label").click()
    # Earlier tests in this module labeled the first reviews: Sam's queue starts at the first review
    # no person has labeled yet.
    shown = page.get_by_text(re.compile(r"^Review #\d+( ·|$)"))
    expect(shown).to_be_visible(timeout=TIMEOUT_MS)
    number = int(re.match(r"Review #(\d+)", shown.inner_text()).group(1))  # type: ignore[union-attr]
    wait_for_review(page, number)
    suggestion = page.get_by_text(re.compile(r"^Suggested: "))
    expect(suggestion).to_be_visible(timeout=TIMEOUT_MS)
    suggested_name = re.match(r"Suggested: (\w+)", suggestion.inner_text()).group(1)  # type: ignore[union-attr]
    expect(page.get_by_text("Others:")).to_have_count(0)  # blind by default: the imported label is hidden
    screenshot(page, "label-suggestion")

    page.keyboard.press("Enter")
    assert wait_for_rows(lambda: annotations_by(app_db, "Sam"), count=1) == [(number - 1, suggested_name)]
    with app_db.read() as session:
        recorded = session.execute(
            select(Annotation.suggested_label_id == Annotation.label_class_id)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .where(Annotator.name == "Sam")
        ).scalar_one()
    assert recorded


def test_least_sure_order_suspicious_labels_and_the_learning_curve(
    page: Page, app_url: str, app_db: Database, data_dir: Path
) -> None:
    from core.assist.refresh import FAST_MODEL_FILE
    from core.models import Adjudication

    dataset = ensure_sample(app_db)
    add_annotator(app_db, "Ria")
    # Readiness: the fast model the assist runner fits on Kim's labels from the first test, and every
    # review embedded (the suspicious labels and the curve use all of them).
    folder = EmbeddingStore.for_dataset(app_db, data_dir, dataset.id).folder
    wait_until(
        lambda: (folder / FAST_MODEL_FILE).exists() and len(list(folder.glob("shard-*.npz"))) >= 4,
        "the assist runner never fitted the fast model",
    )
    page.goto(app_url)
    pick_annotator(page, "Ria")
    page.get_by_role("link", name="Label").click()
    expect(page.get_by_text(re.compile(r"^Review #\d+( ·|$)"))).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("combobox", name="Queue order").click()
    page.get_by_role("option", name="Where the model is least sure (learns fastest)").click()
    expect(page.get_by_text(re.compile(r"^Why this review: the model is torn between"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    screenshot(page, "label-least-sure")

    page.get_by_role("radio", name="Suspicious labels").click()
    expect(page.get_by_text(re.compile(r"labels may be wrong"))).to_be_visible(timeout=3 * TIMEOUT_MS)
    change = page.get_by_role("button", name=re.compile(r"^Change to “"))
    expect(change).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "label-suspicious")

    def settled() -> int:
        with app_db.read() as session:
            return session.scalar(select(func.count()).select_from(Adjudication)) or 0

    before = settled()
    change.click()
    wait_until(lambda: settled() > before, "changing a suspicious label never reached the database")
    expect(page.get_by_text(re.compile(r"^Changed to “"))).to_be_visible()
    assert settled() == before + 1

    page.get_by_role("radio", name="Will more labels help?").click()
    expect(page.get_by_text(re.compile(r"the quick model scores about \d+ out of 100"))).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(page.get_by_text("Labeled reviews")).to_be_visible()  # the chart's axis
    screenshot(page, "label-learning-curve")


def test_a_refresh_keeps_the_dataset_and_the_annotator(page: Page, app_url: str, app_db: Database) -> None:
    dataset = ensure_sample(app_db)
    rae = add_annotator(app_db, "Rae")
    page.goto(app_url)
    pick_annotator(page, "Rae")
    page.get_by_role("link", name="Label").click()
    expect(page.get_by_text(re.compile(r"^Review #\d+( ·|$)"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(rf"label\?.*annotator={rae.id}"), timeout=TIMEOUT_MS)
    expect(page).to_have_url(re.compile(rf"dataset={dataset.id}"))

    page.reload()
    expect(page.get_by_role("heading", name="Label", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Annotator")).to_have_value("Rae", timeout=TIMEOUT_MS)
    expect(page.get_by_role("combobox", name="Dataset")).to_have_value(dataset.name)
    # Still labeling as Rae: the queue is shown, not the "choose who is labeling" prompt.
    expect(page.get_by_text(re.compile(r"^Review #\d+( ·|$)"))).to_be_visible(timeout=TIMEOUT_MS)
