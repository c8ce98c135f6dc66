"""Limits that keep an upload from exhausting memory or time. Named so messages and tests can quote them."""

from __future__ import annotations

from dataclasses import dataclass

# Keep in step with server.maxUploadSize in .streamlit/config.toml (tests/unit/test_config_files.py checks).
MAX_UPLOAD_MB = 200


@dataclass(frozen=True)
class ImportLimits:
    max_file_bytes: int = MAX_UPLOAD_MB * 1024 * 1024
    # A review longer than this is almost surely a parsing accident (a swallowed file); models read ~2k chars.
    max_text_chars: int = 20_000
    max_rows: int = 1_000_000
    max_columns: int = 500
    # More distinct values than this and the "label" column is really free text.
    max_labels: int = 50
    # Guards for compressed containers (.xlsx is a zip, .parquet pages are compressed).
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: float = 100.0
    # A quoted field may span lines, but one spanning more than this is an unclosed quote eating the file.
    max_lines_per_record: int = 500


DEFAULT_LIMITS = ImportLimits()
