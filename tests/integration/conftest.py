"""Integration tests run against SQLite and, where it is installed, against a throwaway PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from core.config import Settings
from core.db import Database, open_database, upgrade_schema
from tests.postgres import REQUIRE_ENV, TEMPLATE, create_database, find_bin_dir, postgres_server


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = (
            "PostgreSQL is not installed, so the PostgreSQL runs of the integration tests are skipped "
            "(Debian: apt-get install postgresql; `make test` installs it)."
        )
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(message.replace("are skipped", f"cannot run, and {REQUIRE_ENV} requires them"))
        pytest.skip(message)
    with postgres_server(bin_dir) as base_url:
        template = Database(create_database(base_url, TEMPLATE))
        upgrade_schema(template)
        template.dispose()  # a template database must have no connections when it is copied
        yield base_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    if request.param == "sqlite":
        database = open_database(settings)
    else:
        base_url = request.getfixturevalue("postgres_base_url")
        database = Database(create_database(base_url, f"test_{uuid.uuid4().hex[:12]}", template=TEMPLATE))
    yield database
    database.dispose()
