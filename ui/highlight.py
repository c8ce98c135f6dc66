"""Review text as written, each word shaded by its weight. Every piece of text is HTML-escaped.

One colour per meaning across the Explain page: blue is attention (as in the attention map), green
pushed toward the label and red pushed away (attributions).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from core.explain import Word

ATTENTION_RGB = (33, 102, 172)  # blue, like the attention map's scale
TOWARD_RGB = (46, 125, 50)  # green: pushed toward the label
AWAY_RGB = (198, 40, 40)  # red: pushed away from it
_MAX_ALPHA = 0.75


def highlighted_words_html(
    text: str,
    words: Sequence[Word],
    weights: Sequence[float],
    *,
    cut_text: str = "",
    cut_before_word: int | None = None,
    signed: bool = False,
) -> str:
    """The review's own words (their case, accents and punctuation), with the text between them kept.

    `weights` has one value per word. With `signed`, negative weights are red and positive green;
    otherwise every weight is attention, in blue. cut_text is what the model did not read: shown greyed,
    behind a marker, before word `cut_before_word` (at the end when None).
    """
    peak = max((abs(w) for w in weights), default=0.0) or 1.0
    pieces: list[str] = []
    cut_at = len(words) if cut_before_word is None else cut_before_word
    previous_end: int | None = None
    for index, (word, weight) in enumerate(zip(words, weights, strict=True)):
        if index == cut_at and cut_text:
            pieces.append(_cut_html(cut_text))
        elif previous_end is not None:
            pieces.append(html.escape(text[previous_end : word.start]) or " ")
        if signed:
            red, green, blue = AWAY_RGB if weight < 0 else TOWARD_RGB
        else:
            red, green, blue = ATTENTION_RGB
        alpha = min(1.0, abs(weight) / peak) * _MAX_ALPHA
        pieces.append(
            f'<span style="background:rgba({red},{green},{blue},{alpha:.2f});border-radius:3px;'
            f'padding:1px 1px" title="{weight:+.4f}">{html.escape(text[word.start : word.end])}</span>'
        )
        previous_end = word.end
    if cut_at >= len(words) and cut_text:
        pieces.append(_cut_html(cut_text))
    body = "".join(pieces)
    return f'<div style="line-height:2.0;font-size:1.02rem">{body}</div>'


def _cut_html(cut_text: str) -> str:
    return (
        ' <span style="border:1px dashed #888;border-radius:4px;padding:0 4px;font-size:0.8em">'
        "✂ not read by the model</span> "
        f'<span style="color:#999">{html.escape(cut_text)}</span> '
    )
