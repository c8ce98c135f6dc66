"""The importer against its corpus of nasty files (tests/fixtures/importer) and a few built on the fly."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from core.errors import ColumnMappingError, ImportFileError
from core.importing.limits import ImportLimits
from core.importing.plan import ColumnMapping, ImportPlan, build_import_plan, guess_mapping
from core.importing.reader import read_table
from core.importing.table import LISTED_PROBLEMS, ParsedTable
from tests.unit.import_budget import import_budget

__all__ = ["import_budget"]  # the autouse fixture: every test here is held to a time and memory budget


def read(corpus: Path, name: str, **kwargs: object) -> ParsedTable:
    return read_table((corpus / name).read_bytes(), name, **kwargs)  # type: ignore[arg-type]


def plan_for(table: ParsedTable, **kwargs: object) -> ImportPlan:
    return build_import_plan(table, guess_mapping(table), **kwargs)  # type: ignore[arg-type]


def texts(plan: ImportPlan) -> list[str]:
    return [record.text for record in plan.records]


# --- Encodings ---------------------------------------------------------------------------------


def test_utf8(corpus: Path) -> None:
    table = read(corpus, "utf8.csv")
    assert table.encoding == "UTF-8"
    assert texts(plan_for(table)) == ["Café au lait — lovely", "naïve résumé"]


def test_utf8_bom_does_not_stick_to_first_column(corpus: Path) -> None:
    table = read(corpus, "utf8_bom.csv")
    assert table.columns == ("review", "label")
    assert table.encoding == "UTF-8 with BOM"
    assert guess_mapping(table) == ColumnMapping(text="review", label="label")


def test_utf16_with_bom(corpus: Path) -> None:
    table = read(corpus, "utf16_bom.csv")
    assert table.columns == ("review", "label")
    assert texts(plan_for(table)) == ["über gut", "schlecht"]


def test_cp1252_smart_quotes_and_dashes(corpus: Path) -> None:
    table = read(corpus, "cp1252.csv")
    assert table.encoding == "Windows-1252"
    assert texts(plan_for(table)) == ["café “quoted” – fine"]


def test_latin1_byte_undefined_in_cp1252(corpus: Path) -> None:
    table = read(corpus, "latin1.csv")
    assert table.encoding == "Latin-1"
    assert texts(plan_for(table)) == ["na\xefve \x81 text"]


def test_invalid_utf8_bytes_are_replaced_and_reported_by_line(corpus: Path) -> None:
    table = read(corpus, "invalid_utf8.csv")
    plan = plan_for(table)
    # Real UTF-8 beside the damage: the file stays UTF-8 instead of turning into mojibake.
    assert texts(plan)[0] == "fine été"
    assert texts(plan)[1] == "broken \ufffd\ufffd byte"
    assert any("2 bytes could not be read as UTF-8" in w and "lines 3" in w for w in plan.warnings)


# --- Delimiters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "delimiter", "first_text"),
    [
        ("comma.csv", ",", "good"),
        ("semicolon.csv", ";", "good, really"),
        ("tab.tsv", "\t", "good"),
        ("pipe.csv", "|", "good; fine"),
    ],
)
def test_delimiters(corpus: Path, name: str, delimiter: str, first_text: str) -> None:
    table = read(corpus, name)
    assert table.delimiter == delimiter
    assert table.columns == ("id", "review", "label")
    plan = plan_for(table)
    assert texts(plan)[0] == first_text
    assert plan.label_counts == {"positive": 1, "negative": 1}
    assert [r.external_id for r in plan.records] == ["1", "2"]


def test_single_column_whose_header_and_rows_contain_delimiters(corpus: Path) -> None:
    table = read(corpus, "single_column_fooling.csv")
    assert table.delimiter is None
    assert table.columns == ("Review, in full",)
    assert texts(plan_for(table)) == ["I liked it; it was fine", "Bad, very bad", "ok"]


# --- Malformed rows ----------------------------------------------------------------------------


def test_quoted_fields_with_newlines_and_doubled_quotes(corpus: Path) -> None:
    plan = plan_for(read(corpus, "multiline_quotes.csv"))
    assert texts(plan) == ['line one\nline two, with "quotes"', "plain"]
    assert [r.location for r in plan.records] == [2, 4]
    assert plan.rejected == []


def test_ragged_rows_long_rejected_with_line_short_padded(corpus: Path) -> None:
    plan = plan_for(read(corpus, "ragged.csv"))
    assert texts(plan) == ["good", "short", "fine"]
    assert plan.records[1].label is None
    assert [(p.location, p.reason.split(":")[0]) for p in plan.rejected] == [(3, "unparseable row")]
    assert "5 fields but the header has 3" in plan.rejected[0].reason


def test_unbalanced_quote_loses_only_its_own_line(corpus: Path) -> None:
    plan = plan_for(read(corpus, "unbalanced_quotes.csv"))
    assert texts(plan) == ["good", "still here", "ok\nmultiline"]
    assert len(plan.rejected) == 1
    assert plan.rejected[0].location == 3
    assert "quote is opened but never closed" in plan.rejected[0].reason


# --- Degenerate files --------------------------------------------------------------------------


def test_empty_file(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="empty"):
        read(corpus, "empty.csv")


def test_header_without_rows(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="header but no rows"):
        read(corpus, "header_only.csv")


def test_no_usable_text_column(corpus: Path) -> None:
    table = read(corpus, "no_text.csv")
    with pytest.raises(ColumnMappingError, match="empty in every row"):
        build_import_plan(table, ColumnMapping(text="review"))


# --- Large content -----------------------------------------------------------------------------


def test_review_over_100kb_is_rejected_with_its_line() -> None:
    huge = "x" * 102_400
    raw = f"review,label\nshort one,positive\n{huge},negative\nlast,neutral\n".encode()
    plan = plan_for(read_table(raw, "big.csv"))
    assert texts(plan) == ["short one", "last"]
    assert plan.rejected[0].location == 3
    assert "length limit (102,400 characters" in plan.rejected[0].reason


def test_file_over_the_upload_limit() -> None:
    raw = b"review\n" + b"a review\n" * 200
    with pytest.raises(ImportFileError, match="limit is"):
        read_table(raw, "big.csv", limits=ImportLimits(max_file_bytes=1000))


# --- Wrong file types --------------------------------------------------------------------------


def test_png_renamed_csv(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="PNG image"):
        read(corpus, "png_renamed.csv")


def test_random_binary_renamed_csv(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="binary data"):
        read(corpus, "random_binary.csv")


def test_text_file_renamed_xlsx(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="not a valid Excel workbook"):
        read(corpus, "not_a_zip.xlsx")


def test_unsupported_extension() -> None:
    with pytest.raises(ImportFileError, match=r"Supported types: .*\.csv"):
        read_table(b"hello", "notes.docx")


def test_xlsx_zip_bomb_is_refused_before_parsing(corpus: Path) -> None:
    raw = (corpus / "zip_bomb.xlsx").read_bytes()
    assert len(raw) < 200_000
    with pytest.raises(ImportFileError, match="zip bomb"):
        read_table(raw, "bomb.xlsx")


def test_xlsx_expanding_past_the_total_limit_is_refused(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="would expand"):
        read_table(
            (corpus / "zip_bomb.xlsx").read_bytes(),
            "bomb.xlsx",
            limits=ImportLimits(max_uncompressed_bytes=10_000_000),
        )


def test_xlsx_with_huge_declared_dimension_reads_only_real_rows() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["review", "label"])
    sheet.append(["fine", "positive"])
    sheet.append(["meh", "neutral"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # Rewrite the sheet's <dimension> to claim every cell Excel can address.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', data)
                assert count == 1
            target.writestr(item, data)
    table = read_table(patched.getvalue(), "declared.xlsx")
    assert table.columns == ("review", "label")
    assert [row.values for row in table.rows] == [("fine", "positive"), ("meh", "neutral")]


# --- Mixed types and other formats ---------------------------------------------------------------


def test_numbers_and_nan_in_text_column_of_excel(corpus: Path) -> None:
    table = read(corpus, "mixed_types.xlsx")
    assert table.sheet_names == ["Reviews", "Notes"]
    plan = plan_for(table)
    assert texts(plan) == ["great", "42"]
    assert [p.reason for p in plan.rejected] == ["empty text", "empty text"]
    assert [p.location for p in plan.rejected] == [4, 5]
    assert any("number in the text column" in w for w in plan.warnings)
    assert plan.records[0].meta == {"score": 5}


def test_excel_second_sheet(corpus: Path) -> None:
    table = read(corpus, "mixed_types.xlsx", sheet="Notes")
    assert table.sheet == "Notes"
    assert texts(plan_for(table)) == ["second sheet"]


def test_numbers_and_null_in_text_column_of_json(corpus: Path) -> None:
    plan = plan_for(read(corpus, "mixed_types.json"))
    assert texts(plan) == ["12345", "3.5", "words"]
    assert [(p.location, p.reason) for p in plan.rejected] == [(2, "empty text")]


def test_parquet_with_nulls_and_nan(corpus: Path) -> None:
    plan = plan_for(read(corpus, "mixed_types.parquet"))
    assert texts(plan) == ["good", "bad"]
    assert plan.records[0].meta == {"n": 1.0}
    assert [p.location for p in plan.rejected] == [2, 4]


def test_json_array_with_nested_values_and_a_bad_item(corpus: Path) -> None:
    table = read(corpus, "records.json")
    plan = plan_for(table)
    assert texts(plan) == ["good", "bad"]
    assert plan.records[0].meta == {"extra": '{"k": 1}'}
    assert [(p.location, p.reason) for p in plan.rejected] == [
        (3, "unparseable row: not an object or a string")
    ]


def test_jsonl_with_a_broken_line(corpus: Path) -> None:
    plan = plan_for(read(corpus, "records.jsonl"))
    assert texts(plan) == ["good", "just a string", "bad"]
    assert plan.rejected[0].location == 2
    assert "not valid JSON" in plan.rejected[0].reason


def test_plain_text_one_review_per_line(corpus: Path) -> None:
    plan = plan_for(read(corpus, "reviews.txt"))
    assert texts(plan) == ["first review", "second review"]
    assert [(p.location, p.reason) for p in plan.rejected] == [(2, "empty text")]


def test_invalid_json_document_names_the_position() -> None:
    with pytest.raises(ImportFileError, match=r"line 1, column \d+"):
        read_table(b'[{"text": "a",}]', "bad.json")


# --- Validation rules --------------------------------------------------------------------------


def test_exact_duplicates_rejected_but_same_text_with_other_fields_kept() -> None:
    raw = b"review,label,drug\nsame,positive,a\nsame,positive,a\nsame,positive,b\n"
    plan = plan_for(read_table(raw, "dups.csv"))
    assert len(plan.records) == 2
    assert [(p.location, p.reason) for p in plan.rejected] == [(3, "exact duplicate of line 2")]
    assert any("repeat the text of an earlier row" in w for w in plan.warnings)


def test_html_entities_decoded_on_request() -> None:
    table = read_table(b"review\nIt&#039;s &amp; fine\n", "e.csv")
    assert texts(build_import_plan(table, ColumnMapping(text="review"))) == ["It&#039;s &amp; fine"]
    decoded = build_import_plan(table, ColumnMapping(text="review"), decode_html_entities=True)
    assert texts(decoded) == ["It's & fine"]


def test_label_column_with_free_text_is_refused() -> None:
    rows = "\n".join(f"review {i},label {i}" for i in range(60))
    table = read_table(f"review,label\n{rows}\n".encode(), "many.csv")
    with pytest.raises(ColumnMappingError, match="looks like free text"):
        build_import_plan(table, ColumnMapping(text="review", label="label"))


def test_one_column_cannot_play_two_roles() -> None:
    table = read_table(b"review,label\na,b\n", "x.csv")
    with pytest.raises(ColumnMappingError, match="only one role"):
        build_import_plan(table, ColumnMapping(text="review", label="review"))


def test_hostile_content_is_kept_verbatim_as_text(corpus: Path) -> None:
    plan = plan_for(read(corpus, "hostile_content.csv"))
    assert texts(plan) == [
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        '=HYPERLINK("http://x")',
    ]


def test_headerless_csv_gets_generated_column_names() -> None:
    table = read_table(b"good,positive\nbad,negative\n", "x.csv", has_header=False)
    assert table.columns == ("column_1", "column_2")
    assert len(table.rows) == 2


# --- Line endings (issue #13) ----------------------------------------------------------------------


def test_old_mac_cr_only_line_endings(corpus: Path) -> None:
    table = read(corpus, "cr_only.csv")
    assert table.columns == ("review", "label")
    plan = plan_for(table)
    assert texts(plan) == ["good", "bad", "fine"]
    assert [r.location for r in plan.records] == [2, 3, 4]


def test_cr_only_plain_text(corpus: Path) -> None:
    assert texts(plan_for(read(corpus, "cr_only.txt"))) == ["first review", "second review"]


def test_windows_crlf_with_a_quoted_line_break(corpus: Path) -> None:
    plan = plan_for(read(corpus, "crlf.csv"))
    assert texts(plan) == ["good", "two\r\nlines"]
    assert plan.label_counts == {"positive": 1, "negative": 1}


def test_no_newline_after_the_last_row(corpus: Path) -> None:
    assert texts(plan_for(read(corpus, "no_final_newline.csv"))) == ["good", "bad"]


# --- More encodings ------------------------------------------------------------------------------


def test_utf16_without_a_bom(corpus: Path) -> None:
    table = read(corpus, "utf16le_no_bom.csv")
    assert table.encoding == "UTF-16"
    assert texts(plan_for(table)) == ["süß", "bitter"]


def test_utf32_with_a_bom(corpus: Path) -> None:
    table = read(corpus, "utf32_bom.csv")
    assert table.encoding == "UTF-32"
    assert texts(plan_for(table)) == ["日本語のレビュー", "plain"]


@pytest.mark.parametrize("name", ["bom_only.csv", "whitespace_only.csv"])
def test_files_with_nothing_in_them(corpus: Path, name: str) -> None:
    with pytest.raises(ImportFileError, match="This file is empty"):
        read(corpus, name)


def test_nul_bytes_mean_binary(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="binary data"):
        read(corpus, "nul_bytes.csv")


# --- Shapes ----------------------------------------------------------------------------------------


def test_semicolons_with_decimal_commas(corpus: Path) -> None:
    table = read(corpus, "semicolon_decimal_comma.csv")
    assert table.delimiter == ";"
    plan = plan_for(table)
    assert texts(plan) == ["good, really", "bad"]
    assert [r.meta for r in plan.records] == [{"score": "4,5"}, {"score": "1,0"}]


def test_duplicate_and_blank_headers_get_distinct_names(corpus: Path) -> None:
    table = read(corpus, "duplicate_headers.csv")
    assert table.columns == ("review", "review_2", "column_3", "label")
    assert texts(plan_for(table)) == ["good", "bad"]


def test_rows_of_delimiters_only(corpus: Path) -> None:
    table = read(corpus, "only_delimiters.csv")
    with pytest.raises(ColumnMappingError, match="empty in every row"):
        plan_for(table)


def test_too_many_columns_is_refused_at_the_header(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="600 columns, over the 500 limit"):
        read(corpus, "many_columns.csv")


def test_row_limit_keeps_the_first_rows_and_names_the_rest() -> None:
    raw = b"review\n" + b"".join(b"review %d\n" % i for i in range(30))
    plan = plan_for(read_table(raw, "rows.csv", limits=ImportLimits(max_rows=25)))
    assert len(plan.records) == 25
    assert [p.location for p in plan.rejected] == list(range(27, 32))
    assert all("25-row limit" in p.reason for p in plan.rejected)


# --- Deep nesting ----------------------------------------------------------------------------------


def test_deeply_nested_json_is_refused_not_crashed(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="nested hundreds of levels deep"):
        read(corpus, "deep_nesting.json")


def test_deeply_nested_json_line_loses_only_itself(corpus: Path) -> None:
    plan = plan_for(read(corpus, "deep_nesting.jsonl"))
    assert texts(plan) == ["kept", "also kept"]
    assert [(p.location, p.reason) for p in plan.rejected] == [
        (2, "unparseable row: nested too deeply ([[[[…)")
    ]


def test_json_wrapper_object_and_json_scalar(corpus: Path) -> None:
    assert texts(plan_for(read(corpus, "json_wrapper.json"))) == ["good", "bad"]
    with pytest.raises(ImportFileError, match="should hold a list of records"):
        read(corpus, "json_scalar.json")


# --- Label explosions --------------------------------------------------------------------------------


def test_an_id_column_is_not_guessed_as_the_label(corpus: Path) -> None:
    table = read(corpus, "label_explosion.csv")
    assert guess_mapping(table) == ColumnMapping(text="review", label=None)


def test_an_id_column_picked_as_the_label_is_explained_at_mapping(corpus: Path) -> None:
    table = read(corpus, "label_explosion.csv")
    with pytest.raises(ColumnMappingError, match="has 5,000 different values, so it looks like free text"):
        build_import_plan(table, ColumnMapping(text="review", label="label"))


# --- Formula payloads --------------------------------------------------------------------------------


def test_formula_payloads_import_verbatim_as_text(corpus: Path) -> None:
    plan = plan_for(read(corpus, "formula_payloads.csv"))
    # Surrounding whitespace is trimmed from every review; the payloads themselves stay as typed.
    assert texts(plan) == ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "leading tab"]


def test_a_real_excel_formula_is_never_evaluated(corpus: Path) -> None:
    # data_only: the cached result is read, never the formula; an uncomputed one is an empty cell.
    plan = plan_for(read(corpus, "formulas.xlsx"))
    assert texts(plan) == ["plain text"]
    assert [(p.location, p.reason) for p in plan.rejected] == [(2, "empty text")]


# --- Renamed binaries and hostile containers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("pdf_renamed.csv", "a PDF document"),
        ("gzip_renamed.csv", "a gzip archive"),
        ("sqlite_renamed.json", "a SQLite database"),
        ("parquet_renamed.csv", "a Parquet file"),
    ],
)
def test_renamed_binaries_say_what_they_are(corpus: Path, name: str, what: str) -> None:
    with pytest.raises(ImportFileError, match=f"This file is {what}"):
        read(corpus, name)


def test_billion_laughs_workbook_is_refused_without_expanding(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="billion laughs"):
        read(corpus, "billion_laughs.xlsx")


def test_zip_that_is_not_a_workbook(corpus: Path) -> None:
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        read(corpus, "zip_not_a_workbook.xlsx")


def test_no_message_names_a_python_exception_class(corpus: Path) -> None:
    """Users read these: say what is wrong with the file, not which Python error it raised."""
    refused = 0
    for path in sorted(corpus.iterdir()):
        try:
            table = read_table(path.read_bytes(), path.name)
            build_import_plan(table, guess_mapping(table))
        except (ImportFileError, ColumnMappingError) as error:
            refused += 1
            assert not re.search(r"\b[A-Z][a-zA-Z]*(Error|Exception)\b", str(error)), (path.name, str(error))
    assert refused >= 15


def test_the_corpus_covers_every_family(corpus: Path) -> None:
    assert len(list(corpus.iterdir())) >= 40


def test_duplicates_are_confirmed_on_the_rows_so_a_hash_collision_drops_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csv = "review,label\nalpha,pos\nbeta,neg\nalpha,pos\ngamma,pos\nbeta,neg\nalpha,neg\n"
    honest = build_import_plan(read_table(csv.encode(), "d.csv"), ColumnMapping(text="review", label="label"))
    # Every row hashes alike: only comparing the rows themselves can tell duplicates from collisions.
    monkeypatch.setattr("core.importing.plan._hash64", lambda data: 0)
    colliding = build_import_plan(
        read_table(csv.encode(), "d.csv"), ColumnMapping(text="review", label="label")
    )
    for plan in (honest, colliding):
        assert [(r.text, r.label, r.location) for r in plan.records] == [
            ("alpha", "pos", 2),
            ("beta", "neg", 3),
            ("gamma", "pos", 5),
            ("alpha", "neg", 7),
        ]
        assert [(p.location, p.reason) for p in plan.rejected] == [
            (4, "exact duplicate of line 2"),
            (6, "exact duplicate of line 3"),
        ]
        assert plan.label_counts == {"pos": 2, "neg": 2}
        assert plan.warnings == [
            "1 rows repeat the text of an earlier row with different other columns; they were kept. "
            "Duplicates can inflate test scores."
        ]


def test_a_text_upload_is_kept_as_its_bytes_and_read_a_line_at_a_time() -> None:
    raw = 'review,label\n"good, 👍",pos\n"two\nlines",neg\nplain,pos\n'.encode()
    table = read_table(raw, "bytes.csv")
    lines = table.rows._lines  # type: ignore[attr-defined]
    assert lines.data is raw  # no copy of the upload, no whole-file string
    assert [row.values for row in table.rows] == [
        ("good, 👍", "pos"),
        ("two\nlines", "neg"),
        ("plain", "pos"),
    ]
    assert [row.location for row in table.rows] == [2, 3, 5]
    assert table.rows[-1] == table.rows[2] and table.rows[1:] == list(table.rows)[1:]
    with pytest.raises(IndexError):
        table.rows[3]


@pytest.mark.budget(seconds=4)
def test_a_flood_of_broken_rows_is_listed_up_to_a_limit_and_counted_beyond_it() -> None:
    broken = LISTED_PROBLEMS + 5
    raw = ("review,label\nfine,pos\n" + ",pos\n" * broken).encode()  # no review text: rejected
    plan = plan_for(read_table(raw, "flood.csv"))
    assert [r.text for r in plan.records] == ["fine"]
    assert len(plan.rejected) == LISTED_PROBLEMS
    assert (plan.rows_rejected, plan.rejected_unlisted, plan.rows_read) == (broken, 5, broken + 1)
    assert plan.rejected[0].location == 3
    assert plan.rejected[-1].location == LISTED_PROBLEMS + 2
