from __future__ import annotations

import re

from ui.text import markdown_literal


def test_markdown_and_math_characters_are_escaped() -> None:
    raw = "**bold** _it_ [link](javascript:alert(1)) $x$ <img src=x onerror=alert(1)> # h"
    escaped = markdown_literal(raw)
    # Every special character is preceded by a backslash, so Streamlit shows it literally.
    assert re.sub(r"\\(.)", r"\1", escaped) == raw
    for char in "*_[]()$<>#":
        assert re.search(rf"(?<!\\){re.escape(char)}", escaped) is None, char


def test_line_breaks_survive_and_empty_text_renders_something() -> None:
    assert markdown_literal("one\ntwo") == "one  \ntwo"
    assert markdown_literal("") == " "
