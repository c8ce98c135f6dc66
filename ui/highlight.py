"""Review text with each token's weight as a background colour. Every piece of text is HTML-escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence

_POSITIVE = (46, 125, 50)  # green: pushes toward the class / receives attention
_NEGATIVE = (198, 40, 40)  # red: pushes away from the class
SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[PAD]")  # structure, not words: never shaded or shown


def highlighted_tokens_html(
    tokens: Sequence[str],
    weights: Sequence[float],
    *,
    cut_text: str = "",
    tokens_before_cut: int | None = None,
    signed: bool = False,
) -> str:
    """Word pieces joined back into words ("##" pieces attach to the previous one); specials dropped.

    cut_text is what the model did not read: shown greyed, behind a marker, where it was cut (after
    the first `tokens_before_cut` tokens; at the end when None).
    """
    shown_weights = [w for token, w in zip(tokens, weights, strict=True) if token not in SPECIAL_TOKENS]
    # Scaled to the words shown: [CLS] and [SEP] often take most attention and would pale the rest.
    peak = max((abs(w) for w in shown_weights), default=0.0) or 1.0
    pieces: list[str] = []
    cut_at = len(tokens) if tokens_before_cut is None else tokens_before_cut
    for index, (token, weight) in enumerate(zip(tokens, weights, strict=True)):
        if index == cut_at and cut_text:
            pieces.append(_cut_html(cut_text))
        if token in SPECIAL_TOKENS:
            continue
        glue = token.startswith("##")
        shown = html.escape(token[2:] if glue else token)
        red, green, blue = _NEGATIVE if signed and weight < 0 else _POSITIVE
        alpha = min(1.0, abs(weight) / peak) * 0.75
        pieces.append(
            ("" if glue or not pieces else " ")
            + f'<span style="background:rgba({red},{green},{blue},{alpha:.2f});border-radius:3px;'
            f'padding:1px 1px" title="{weight:+.4f}">{shown}</span>'
        )
    if cut_at >= len(tokens) and cut_text:
        pieces.append(_cut_html(cut_text))
    body = "".join(pieces)
    return f'<div style="line-height:2.0;font-size:1.02rem">{body}</div>'


def _cut_html(cut_text: str) -> str:
    return (
        ' <span style="border:1px dashed #888;border-radius:4px;padding:0 4px;font-size:0.8em">'
        "✂ not read by the model</span> "
        f'<span style="color:#999">{html.escape(cut_text)}</span> '
    )
