"""Highlighted review text: tokens escaped, word pieces joined, truncated text marked."""

from __future__ import annotations

from ui.highlight import highlighted_tokens_html


def test_markup_in_tokens_and_cut_text_is_escaped() -> None:
    out = highlighted_tokens_html(
        ["[CLS]", "<img", "src=x", "onerror=alert(1)>", "[SEP]"],
        [0.0, 1.0, -0.5, 0.2, 0.0],
        cut_text="<script>alert(2)</script>",
        signed=True,
    )
    assert "<img" not in out and "<script>" not in out
    assert "&lt;img" in out and "&lt;script&gt;alert(2)&lt;/script&gt;" in out
    assert "rgba(198,40,40" in out  # the negative weight is red
    assert "not read by the model" in out


def test_a_cut_middle_sits_between_the_head_and_the_tail() -> None:
    out = highlighted_tokens_html(
        ["[CLS]", "start", "end", "[SEP]"], [0.0, 0.5, 0.5, 0.0], cut_text="middle", tokens_before_cut=2
    )
    assert (
        out.index(">start<") < out.index("not read by the model") < out.index("middle") < out.index(">end<")
    )


def test_word_pieces_join_and_specials_drop() -> None:
    out = highlighted_tokens_html(["[CLS]", "head", "##ache", "[SEP]"], [0.1, 0.5, 0.5, 0.1])
    assert ">head</span><span" in out and ">ache</span>" in out
    assert "CLS" not in out


def test_shading_is_scaled_to_the_words_not_the_special_tokens() -> None:
    # [CLS] takes most of the attention; the strongest word must still get the full shade.
    out = highlighted_tokens_html(["[CLS]", "awful", "pill", "[SEP]"], [0.9, 0.08, 0.02, 0.0])
    assert "rgba(46,125,50,0.75)" in out  # "awful", the peak among words
    assert "rgba(46,125,50,0.19)" in out  # "pill", a quarter of it
