"""Predict: placeholder until its capability lands; it shows no made-up data."""

from __future__ import annotations

from ui.widgets import coming_soon_ui


def render_predict_page() -> None:
    coming_soon_ui(
        "Predict",
        ":material/bolt:",
        "Use a trained model on new reviews.",
        [
            "Type a review and get its label and probabilities",
            "Run a model over a whole file and download the predictions",
        ],
    )


render_predict_page()
