"""Highlighted review text: the review's own words, escaped, shaded in one colour per meaning."""

from __future__ import annotations

from core.explain import Word
from ui.highlight import highlighted_words_html


def _words(text: str) -> list[Word]:
    """One word per whitespace-separated run, as review_words would merge their pieces."""
    words, start = [], None
    for index, char in enumerate(text + " "):
        if char.isspace() and start is not None:
            words.append(Word(start, index, (len(words),)))
            start = None
        elif not char.isspace() and start is None:
            start = index
    return words


def test_markup_in_words_and_cut_text_is_escaped() -> None:
    text = "<img src=x onerror=alert(1)>"
    out = highlighted_words_html(
        text, _words(text), [1.0, -0.5, 0.2], cut_text="<script>alert(2)</script>", signed=True
    )
    assert "<img" not in out and "<script>" not in out
    assert "&lt;img" in out and "&lt;script&gt;alert(2)&lt;/script&gt;" in out
    assert "rgba(198,40,40" in out  # the negative weight is red
    assert "not read by the model" in out


def test_a_cut_middle_sits_between_the_head_and_the_tail() -> None:
    text = "start middle end"
    words = [w for w in _words(text) if text[w.start : w.end] != "middle"]
    out = highlighted_words_html(text, words, [0.5, 0.5], cut_text="middle", cut_before_word=1)
    assert (
        out.index(">start<") < out.index("not read by the model") < out.index("middle") < out.index(">end<")
    )


def test_words_show_as_written_with_the_text_between_them() -> None:
    text = "Hydrocodone helped my L5-S1,  a lot"
    out = highlighted_words_html(text, _words(text), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert ">Hydrocodone</span>" in out and ">L5-S1,</span>" in out
    assert "</span>  <span" in out  # two spaces, as typed


def test_attention_is_blue_and_scaled_to_the_strongest_word() -> None:
    text = "awful pill"
    out = highlighted_words_html(text, _words(text), [0.08, 0.02])
    assert "rgba(33,102,172,0.75)" in out  # "awful", the peak
    assert "rgba(33,102,172,0.19)" in out  # "pill", a quarter of it
    assert "rgba(46,125,50" not in out  # green is kept for "pushed toward"
