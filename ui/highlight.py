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
    rest_of_text: str = "",
    signed: bool = False,
) -> str:
    """Word pieces joined back into words ("##" pieces attach to the previous one); specials dropped.

    rest_of_text is what truncation cut off: shown after a marker, greyed out.
    """
    shown_weights = [w for token, w in zip(tokens, weights, strict=True) if token not in SPECIAL_TOKENS]
    # Scaled to the words shown: [CLS] and [SEP] often take most attention and would pale the rest.
    peak = max((abs(w) for w in shown_weights), default=0.0) or 1.0
    pieces: list[str] = []
    for token, weight in zip(tokens, weights, strict=True):
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
    body = "".join(pieces)
    if rest_of_text:
        body += (
            ' <span style="border:1px dashed #888;border-radius:4px;padding:0 4px;font-size:0.8em">'
            "✂ the model stopped reading here</span> "
            f'<span style="color:#999">{html.escape(rest_of_text)}</span>'
        )
    return f'<div style="line-height:2.0;font-size:1.02rem">{body}</div>'
