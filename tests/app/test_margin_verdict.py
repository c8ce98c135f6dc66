"""The verdict on a run against the keyword model, for each kind of margin, as a newcomer reads it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.app


def _verdict(accuracy: float, macro_f1: float, accuracy_range: object, macro_f1_range: object) -> AppTest:
    def page(accuracy: float, macro_f1: float, accuracy_range: object, macro_f1_range: object) -> None:
        from core.quality import Margin
        from ui.widgets import margin_verdict_ui

        margin_verdict_ui(
            Margin(accuracy, macro_f1, accuracy_range, macro_f1_range),  # type: ignore[arg-type]
            context="on the test reviews",
            advice="Label more reviews.",
        )

    return AppTest.from_function(page, args=(accuracy, macro_f1, accuracy_range, macro_f1_range)).run(
        timeout=30
    )


def test_behind_on_accuracy_only_by_chance_says_level_with_the_range() -> None:
    at = _verdict(-1.6, 9.2, (-6.6, 3.2), (3.1, 15.0))
    assert not at.exception and not at.warning
    text = at.info[0].value
    assert "clearly ahead on macro-F1; on accuracy the two are level within chance" in text
    assert "from -6.6 to +3.2 pts" in text and "not clearly earned its place" in text
    assert "Label more reviews." in text


def test_clearly_behind_says_not_yet_earned() -> None:
    at = _verdict(-6.0, 9.2, (-9.5, -2.4), (3.1, 15.0))
    assert not at.exception and not at.info
    assert "has not yet earned its place" in at.warning[0].value


def test_a_clear_win_and_a_run_stored_before_the_ranges() -> None:
    assert "+3.0 pts macro-F1" in _verdict(2.0, 3.0, (0.5, 3.5), (1.0, 5.0)).success[0].value
    # Without ranges, a split margin reads as not yet earned, as before the ranges existed.
    assert "has not yet earned its place" in _verdict(-1.6, 9.2, None, None).warning[0].value
