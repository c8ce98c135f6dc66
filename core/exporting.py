"""Files people download and open in spreadsheets: CSV, Excel and JSON Lines, safe against formula injection.

OWASP (CSV Injection): a cell that starts with =, +, -, @, a tab or a carriage return can run as a
formula in Excel, LibreOffice or Google Sheets. Such text cells get a leading single quote, which the
spreadsheet shows as text. Numeric columns are left numeric. JSON Lines is not opened by
spreadsheets and keeps the text exactly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREDICTED_COLUMN = "predicted_label"
CONFIDENCE_COLUMN = "confidence"
# Spelled out: these files are opened in spreadsheets by people who never read the code.
PROBABILITY_PREFIX = "probability_"
ROW_IN_FILE_COLUMN = "row_in_file"


def probability_column(label: str) -> str:
    return f"{PROBABILITY_PREFIX}{label}"


def neutralize_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    for column in safe.columns:
        series = safe[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        safe[column] = series.map(neutralize_cell)
    # A column name is a cell too.
    safe.columns = [neutralize_cell(str(name)) for name in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    # With a BOM, Excel opens UTF-8 text correctly instead of guessing a legacy code page. With \r\n as
    # the line end, the csv writer quotes any cell holding a \r or \n, so no cell can split a row.
    text: str = spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, *, sheet: str = "predictions") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        spreadsheet_safe(frame).to_excel(writer, index=False, sheet_name=sheet)
    return buffer.getvalue()


def to_jsonl_bytes(frame: pd.DataFrame) -> bytes:
    text = frame.to_json(orient="records", lines=True, force_ascii=False)
    return (text or "").encode("utf-8")


def predictions_frame(base: pd.DataFrame, probabilities: np.ndarray, labels: Sequence[str]) -> pd.DataFrame:
    """`base` (one row per review) plus the predicted label, its confidence and each label's probability."""
    frame = base.reset_index(drop=True).copy()
    best = probabilities.argmax(axis=1) if len(probabilities) else np.array([], dtype=int)
    frame[PREDICTED_COLUMN] = [labels[i] for i in best]
    frame[CONFIDENCE_COLUMN] = probabilities.max(axis=1) if len(probabilities) else []
    for index, label in enumerate(labels):
        frame[probability_column(label)] = probabilities[:, index] if len(probabilities) else []
    return frame
