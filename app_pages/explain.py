"""Explain: placeholder until its capability lands; it shows no made-up data."""

from __future__ import annotations

from ui.widgets import coming_soon_ui


def render_explain_page() -> None:
    coming_soon_ui(
        "Explain",
        ":material/psychology:",
        "See why a model decides what it does.",
        [
            "Attention heatmaps per layer and head, and attention rollout",
            "Token attributions with integrated gradients",
        ],
    )


render_explain_page()
