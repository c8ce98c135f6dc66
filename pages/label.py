"""Label: placeholder until its capability lands; it shows no made-up data."""

from __future__ import annotations

from ui.widgets import coming_soon_ui


def render_label_page() -> None:
    coming_soon_ui(
        "Label",
        ":material/label:",
        "Label reviews one at a time with the keyboard, with several annotators and agreement measures.",
        [
            "Keys 1–9 apply a label and move on; s skips, u undoes, ← → move through the queue",
            "Several annotators, with Cohen's and Fleiss' kappa and adjudication of conflicts",
            "A searchable table for bulk labeling",
        ],
    )


render_label_page()
