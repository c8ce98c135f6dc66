"""Results: placeholder until its capability lands; it shows no made-up data."""

from __future__ import annotations

from ui.widgets import coming_soon_ui


def render_results_page() -> None:
    coming_soon_ui(
        "Results",
        ":material/insights:",
        "Scores of finished training runs, and where the model goes wrong.",
        [
            "Accuracy, macro-F1 and per-class precision, recall and F1",
            "A confusion matrix you can click to list the reviews behind each cell",
            "Run comparison and exports",
        ],
    )


render_results_page()
