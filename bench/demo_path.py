"""Time the investor demo in Chromium: from the click on "Try the demo" to the first Explain heatmap.

    python bench/demo_path.py [--screenshots docs] [--dark] [--model MODEL]

Starts the app on an empty data folder (as `make run` does, with the bundled MiniLM unless --model
names another), clicks Try the demo, and follows the guided tour as a brisk newcomer would: accepts
five suggestions with Enter on the Label page, watches the Quick run on Train until it finishes, opens
Results, then Explain. Prints the time of each step from the click, and the run's own timings from
its record. A person reading the tour's text adds their reading time to these figures; the training
run does not wait for them, since it starts at the click.

--screenshots saves Home, Label (with a suggestion), Train (running and finished), Results (its top
and the confusion matrix) and Explain as PNGs into that folder (the README's pictures come from
`--screenshots docs`).
Bar (issue #12): <= 5 minutes from the click to the first heatmap on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import Page, expect, sync_playwright

from core.config import DEMO_MODEL_ENV, Settings
from core.db import open_database
from core.services.training import list_runs, run_progress
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_server

LONG_MS = 15 * 60 * 1000


def idle(page: Page) -> None:
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=LONG_MS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for the PNGs")
    parser.add_argument("--dark", action="store_true", help="the browser prefers a dark theme")
    parser.add_argument("--model", default="", help="what the demo fine-tunes (default: the bundled MiniLM)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="demo-path-")) / "data"
    shots: Path | None = args.screenshots
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    suffix = "-dark" if args.dark else ""

    def shoot(page: Page, name: str) -> None:
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}{suffix}.png"), full_page=False)

    marks: list[tuple[str, float]] = []
    extra_env = {DEMO_MODEL_ENV: args.model} if args.model else {}
    with streamlit_server(data_dir, extra_env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, color_scheme="dark" if args.dark else "light"
        )
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("button", name="Try the demo")).to_be_visible(timeout=LONG_MS)
        idle(page)
        started = time.monotonic()

        def mark(what: str) -> None:
            marks.append((what, time.monotonic() - started))
            print(f"{marks[-1][1]:7.1f} s  {what}", flush=True)

        page.get_by_role("button", name="Try the demo").click()
        expect(page.get_by_text("Guided tour · step 1 of 4")).to_be_visible(timeout=LONG_MS)
        mark("Label page, tour step 1 (sample loaded, run queued)")
        suggestion = page.get_by_text(re.compile(r"^Suggested: "))
        expect(suggestion).to_be_visible(timeout=LONG_MS)
        idle(page)
        mark("first suggestion shown")
        shoot(page, "label")
        for count in range(1, 6):
            idle(page)
            page.keyboard.press("Enter" if suggestion.is_visible() else "1")
            if count < 5:
                expect(page.get_by_text(f"You have labeled {count} of 5.")).to_be_visible(timeout=LONG_MS)
        expect(page.get_by_text("Nicely done.")).to_be_visible(timeout=LONG_MS)
        mark("five reviews labeled")

        idle(page)
        page.get_by_role("button", name="Next", exact=True).click()
        expect(page.get_by_text("Guided tour · step 2 of 4")).to_be_visible(timeout=LONG_MS)
        # The run's live view once it learns (a fast model may already be done).
        learning = page.get_by_text("Reviews per second").or_(
            page.get_by_text(re.compile(r"Run #\d+ finished"))
        )
        expect(learning.first).to_be_visible(timeout=LONG_MS)
        page.wait_for_timeout(5000)  # a few curve points for the picture
        shoot(page, "train")
        expect(page.get_by_text(re.compile(r"Run #\d+ finished"))).to_be_visible(timeout=LONG_MS)
        mark("run finished (seen on Train)")
        idle(page)
        shoot(page, "train-finished")

        page.get_by_role("button", name="Next", exact=True).click()
        expect(page.get_by_text("Where it goes wrong")).to_be_visible(timeout=LONG_MS)
        idle(page)
        mark("Results with the confusion matrix")
        shoot(page, "results-top")
        page.mouse.move(800, 500)  # over the main column, which scrolls on its own
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(500)
        shoot(page, "results")

        page.get_by_role("button", name="Next", exact=True).click()
        expect(page.get_by_text(re.compile(r"Integrated gradients over \d+ tokens"))).to_be_visible(
            timeout=LONG_MS
        )
        mark("first heatmap on Explain")
        idle(page)
        shoot(page, "explain")
        page.get_by_role("button", name="Finish").click()
        expect(page.get_by_text(re.compile(r"Guided tour · step"))).to_have_count(0, timeout=LONG_MS)
        page.get_by_role("link", name="Home").click()
        # The first next step shows once the costlier ones (doubted labels, the forecast) are worked out.
        expect(page.locator(".st-key-next_step_0")).to_be_visible(timeout=LONG_MS)
        idle(page)
        page.wait_for_timeout(2000)  # the toast and charts settle
        shoot(page, "home")
        browser.close()

    db = open_database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'app.db'}"))
    [run] = list_runs(db)
    metrics = run_progress(db, run.id).metrics
    whole = run.duration.total_seconds() if run.duration else float("nan")
    print(f"\nrun #{run.id} ({run.preset}, {run.model_source}) on {run.device}")
    print(f"  learning {metrics.get('train_seconds', float('nan')):.0f} s, whole job {whole:.0f} s")
    print(f"  test accuracy {run.test_accuracy or 0:.3f}, macro-F1 {run.test_macro_f1 or 0:.3f}")
    print(f"\nclick to first heatmap: {marks[-1][1] / 60:.1f} min (bar: 5 min)")


if __name__ == "__main__":
    main()
