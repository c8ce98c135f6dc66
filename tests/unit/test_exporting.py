"""Downloads: formula-injection safety (OWASP) for CSV and Excel, numbers kept as numbers."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from core.exporting import (
    neutralize_cell,
    predictions_frame,
    to_csv_bytes,
    to_excel_bytes,
    to_jsonl_bytes,
)

HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tleading tab", "\rcarriage", '=HYPERLINK("http://x")']


@pytest.mark.parametrize("value", HOSTILE)
def test_every_trigger_character_is_neutralized(value: str) -> None:
    assert neutralize_cell(value) == "'" + value


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert neutralize_cell("great drug") == "great drug"
    assert neutralize_cell("a = b") == "a = b"
    assert neutralize_cell(-3) == -3


def frame() -> pd.DataFrame:
    return pd.DataFrame({"review": [*HOSTILE, "fine"], "rating": [-1, 2, -3, 4, 5, 6, 7, 8]})


def test_csv_cells_start_with_a_quote_and_numbers_stay_numbers() -> None:
    parsed = pd.read_csv(io.BytesIO(to_csv_bytes(frame())), encoding="utf-8-sig", keep_default_na=False)
    assert all(text.startswith("'") for text in parsed["review"][:-1])
    assert parsed["review"].iloc[-1] == "fine"
    assert parsed["rating"].tolist() == [-1, 2, -3, 4, 5, 6, 7, 8]
    assert pd.api.types.is_integer_dtype(parsed["rating"])


def test_excel_cells_are_text_not_formulas() -> None:
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame())))
    sheet = book.active
    assert sheet is not None
    cells = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(text, str) and text.startswith("'") for text, _ in cells[:-1])
    for row in sheet.iter_rows(min_row=2):
        assert row[0].data_type == "s"  # a string cell, never "f" (formula)
        assert row[1].data_type == "n"


def test_jsonl_keeps_the_exact_text() -> None:
    lines = to_jsonl_bytes(frame()).decode().splitlines()
    assert pd.read_json(io.StringIO("\n".join(lines)), lines=True)["review"].tolist()[0] == "=1+2"


def test_predictions_frame_adds_label_confidence_and_probabilities() -> None:
    probabilities = np.array([[0.1, 0.9], [0.7, 0.3]], dtype=np.float32)
    result = predictions_frame(pd.DataFrame({"review": ["a", "b"]}), probabilities, ["neg", "pos"])
    assert result["predicted_label"].tolist() == ["pos", "neg"]
    assert result["confidence"].tolist() == pytest.approx([0.9, 0.7])
    assert result["probability_pos"].tolist() == pytest.approx([0.9, 0.3])
