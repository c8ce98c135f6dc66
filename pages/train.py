"""Train: placeholder until its capability lands; it shows no made-up data."""

from __future__ import annotations

from ui.widgets import coming_soon_ui


def render_train_page() -> None:
    coming_soon_ui(
        "Train",
        ":material/model_training:",
        "Fine-tune a transformer classifier on your labels with one click.",
        [
            "Runs in the background with live progress, loss curves and cancel",
            "Uses the bundled MiniLM model offline, and a GPU when there is one",
            "Stores scores, a confusion matrix and predictions for every review",
        ],
    )


render_train_page()
