"""Settings that live in two places must agree, and the house rules on imports must hold."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from core.config import load_settings
from core.importing.limits import MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_upload_limit_matches_the_importer() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert 1 <= MAX_UPLOAD_MB <= 1024  # a sane limit: the importer holds an upload in memory
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_requirements_pin_torch_exactly() -> None:
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().splitlines()


def test_core_never_imports_streamlit_and_pages_never_import_the_engine() -> None:
    for path in (ROOT / "core").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.M), path
    for path in (ROOT / "app_pages").glob("*.py"):
        assert not re.search(
            r"^\s*(import|from)\s+(torch|transformers|sqlalchemy)\b", path.read_text(), re.M
        ), path


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"REVIEW_STUDIO_DATA_DIR": str(tmp_path)})
    assert settings.data_dir == tmp_path.resolve()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'app.db'}"
    assert load_settings({"DATABASE_URL": "sqlite:///x.db"}).database_url == "sqlite:///x.db"


def test_both_themes_are_defined_and_the_menu_offers_the_switch() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    theme = config["theme"]
    assert "base" not in theme  # a base would pin one theme and ignore the browser's preference
    for name in ("light", "dark"):
        assert {"primaryColor", "backgroundColor", "secondaryBackgroundColor", "textColor"} <= set(
            theme[name]
        )
    assert config["client"]["toolbarMode"] == "viewer"
