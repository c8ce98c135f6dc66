from __future__ import annotations

import re

from ui.text import markdown_literal


def test_markdown_and_math_characters_are_escaped() -> None:
    raw = "**bold** _it_ [link](javascript:alert(1)) $x$ <img src=x onerror=alert(1)> # h"
    escaped = markdown_literal(raw)
    # Every special character is preceded by a backslash, so Streamlit shows it literally (the word
    # joiners after colons are invisible; see the shortcode test below).
    assert re.sub(r"\\(.)", r"\1", escaped).replace("\u2060", "") == raw
    for char in "*_[]()$<>#":
        assert re.search(rf"(?<!\\){re.escape(char)}", escaped) is None, char


def test_line_breaks_survive_and_empty_text_renders_something() -> None:
    assert markdown_literal("one\ntwo") == "one  \ntwo"
    assert markdown_literal("") == " "


def test_shortcodes_are_broken_by_an_invisible_joiner() -> None:
    """Streamlit expands :material/x: and :emoji: after removing escapes; a word joiner stops that."""
    escaped = markdown_literal("a :material/skull: b :skull: at 10:30. Note: fine")
    assert ":material/" not in escaped.replace("\\", "")
    assert ":skull:" not in escaped.replace("\\", "")
    assert (
        escaped.replace("\\", "").replace("\u2060", "") == "a :material/skull: b :skull: at 10:30. Note: fine"
    )
    assert "Note\\: fine" in escaped  # a colon before a space needs no joiner
