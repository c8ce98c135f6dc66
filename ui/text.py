"""Showing user text as text: Streamlit renders markdown, so every markdown and math character is escaped."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def markdown_literal(text: str) -> str:
    """Escape text for st.markdown so it shows exactly as typed, line breaks included."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return "  \n".join(escaped.splitlines()) or " "
