"""Markup in every kind of user text stays text on every page (issue #13).

One payload goes into review text, label names, the dataset name, an annotator's name and the
guidelines: HTML that would run script or leave an element behind, Markdown bold and a link, Material
and emoji shortcodes, and math. Every page is visited with that dataset and annotator current; on
each, a `window.__pwned` sentinel must stay unset, no dialog may open, and none of the markup may have
been rendered (no element, no bold, no link, no icon, no emoji, no formula).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.models import RunStatus
from core.services.annotators import add_annotator
from core.services.datasets import update_guidelines
from core.services.importing import choose_test_indices, import_dataset
from core.services.training import run_progress, start_training
from tests.e2e.conftest import record_dialogs, screenshot
from tests.integration.training_helpers import status, tiny_config, wait_for

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000

PAYLOAD = '<img src=x onerror="window.__pwned=1"><b id=pwnb>b</b>**boldpwn**:material/skull::skull:$x^2$'
# Short enough for label and annotator names (80 characters at most).
NAME = "<b id=pwnb>b</b>**boldpwn**:material/skull::skull:$x^2$"
LINK = "[linkpwn](https://example.org)"
SCRIPT = "<script>window.__pwned=2</script>"

# What rendered markup would leave in the page.
RENDERED_MARKUP = """() => {
    const found = [];
    const where = (el) => (el.closest('[data-testid]') || el).getAttribute('data-testid') + ': '
        + (el.parentElement || el).outerHTML.slice(0, 160);
    if (window.__pwned !== undefined) found.push('window.__pwned=' + window.__pwned);
    if (document.getElementById('pwnb')) found.push('an element from HTML (#pwnb) in ' + where(document.getElementById('pwnb')));
    for (const el of document.querySelectorAll('strong, b')) {
        // The app may put a name in bold itself; rendered, the name's own ** would be gone.
        if (el.textContent.includes('boldpwn') && !el.textContent.includes('**boldpwn**')) found.push('Markdown bold in ' + where(el));
    }
    for (const el of document.querySelectorAll('a')) {
        if (el.textContent.includes('linkpwn') && !el.textContent.includes('[linkpwn]')) found.push('a Markdown link in ' + where(el));
    }
    for (const el of document.querySelectorAll('[data-testid="stIconMaterial"]')) {
        if (el.textContent.trim() === 'skull') found.push('a Material shortcode icon in ' + where(el));
    }
    if (document.body.innerText.includes('\\u{1F480}')) found.push('an emoji shortcode');
    for (const el of document.querySelectorAll('.katex')) {
        if (el.textContent.includes('x')) found.push('a formula in ' + where(el));
    }
    return found;
}"""


def hostile_everything(db: Database) -> tuple[int, int]:
    rows = []
    for i in range(60):
        text = f"{(PAYLOAD, LINK, SCRIPT)[i % 3]} review {i} works well"
        label = "good" if i % 2 else NAME
        rows.append(f'"{text.replace(chr(34), chr(34) * 2)}","{label.replace(chr(34), chr(34) * 2)}"')
    table = read_table(("review,label\n" + "\n".join(rows) + "\n").encode(), "hostile.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    dataset_id = import_dataset(
        db,
        plan,
        name=PAYLOAD,
        source_filename=None,
        test_indices=choose_test_indices(plan, test_share=0.25, seed=2),
    ).id
    update_guidelines(db, dataset_id, f"{PAYLOAD}\n{LINK}\n{SCRIPT}")
    annotator_id = add_annotator(db, NAME).id
    return dataset_id, annotator_id


def check(page: Page, dialogs: list[str], where: str) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    assert page.evaluate(RENDERED_MARKUP) == [], where
    assert dialogs == [], where


def test_markup_in_every_kind_of_user_text_stays_text_on_every_page(
    page: Page, app_url: str, app_db: Database, tiny_model: str
) -> None:
    dialogs = record_dialogs(page)
    page.goto(app_url)  # starts the server's runner thread
    expect(page.get_by_role("link", name="Results")).to_be_visible(timeout=TIMEOUT_MS)
    dataset_id, annotator_id = hostile_everything(app_db)
    run_id = start_training(app_db, dataset_id, tiny_config(tiny_model, epochs=1), preset="Quick")
    finished = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)
    wait_for(lambda: status(app_db, run_id) in finished, timeout=240)
    assert status(app_db, run_id) == RunStatus.SUCCEEDED, run_progress(app_db, run_id).summary.error

    page.goto(f"{app_url}/?dataset={dataset_id}&annotator={annotator_id}")
    expect(page.get_by_text("Latest model").first).to_be_visible(timeout=TIMEOUT_MS)
    check(page, dialogs, "Home")
    # The names show, as typed, in the sidebar.
    expect(page.get_by_text(":material/skull:").first).to_be_attached()

    page.get_by_role("link", name="Datasets").click()
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    check(page, dialogs, "Datasets")
    for tab in ("Label set", "Guidelines", "Browse"):
        page.get_by_role("tab", name=tab).click()
        check(page, dialogs, f"Datasets → {tab}")
    screenshot(page, "hostile-everywhere-datasets")

    page.get_by_role("link", name="Label").click()
    expect(page.get_by_role("heading", name="Label", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Guidelines").first).to_be_visible(timeout=TIMEOUT_MS)
    # Ready when the label buttons are drawn (one is named with the payload, shown as typed).
    expect(page.get_by_role("button", name=re.compile(r"^good"))).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name=re.compile(r"boldpwn\*\*"))).to_be_visible(timeout=TIMEOUT_MS)
    check(page, dialogs, "Label")
    screenshot(page, "hostile-everywhere-label")
    page.keyboard.press("1")  # give a label, so the history and agreement have something to show
    check(page, dialogs, "Label after a key")
    for view in ("Browse", "Agreement", "Suspicious labels", "Will more labels help?"):
        page.get_by_role("radio", name=view).click()
        check(page, dialogs, f"Label → {view}")

    for name, ready in (
        ("Train", "Run history"),
        ("Results", "Where it goes wrong"),
        ("Predict", "Type or paste a review"),
        ("Explain", "What pushed the decision"),
    ):
        page.get_by_role("link", name=name).click()
        expect(page.get_by_text(re.compile(ready)).first).to_be_visible(timeout=TIMEOUT_MS)
        check(page, dialogs, name)
        screenshot(page, f"hostile-everywhere-{name.lower()}")
