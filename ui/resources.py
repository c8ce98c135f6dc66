"""Process-wide resources, created once per process by st.cache_resource."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import Settings, load_settings
from core.db import Database, open_database


@st.cache_resource(show_spinner="Opening the database…")
def _open_database(database_url: str, data_dir: str) -> Database:
    return open_database(Settings(data_dir=Path(data_dir), database_url=database_url))


def get_db() -> Database:
    # Keyed by URL so tests (and anyone switching DATABASE_URL) get their own engine.
    settings = load_settings()
    return _open_database(settings.database_url, str(settings.data_dir))
