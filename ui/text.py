"""Showing user text as text: Streamlit renders markdown, so every markdown and math character is escaped."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
# Streamlit turns :material/name: and :emoji_name: into icons after Markdown has removed escapes, so a
# backslash does not stop them. An invisible word joiner after the colon does, and shows nothing.
_SHORTCODE_COLON = re.compile(r"\\:(?=[A-Za-z0-9_/+-])")
_WORD_JOINER = "\u2060"


def markdown_literal(text: str) -> str:
    """Escape text for st.markdown so it shows exactly as typed, line breaks included."""
    escaped = _SHORTCODE_COLON.sub(lambda _match: "\\:" + _WORD_JOINER, _MARKDOWN_SPECIAL.sub(r"\\\1", text))
    return "  \n".join(escaped.splitlines()) or " "
