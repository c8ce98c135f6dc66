"""A throwaway PostgreSQL server for the tests: Debian's own binaries, a temporary folder, loopback only.

Started once per test session. Each test gets a fresh database copied from a template that the
migrations built once (CREATE DATABASE ... TEMPLATE takes milliseconds; migrating takes a second).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Set in CI: there a missing PostgreSQL fails the run instead of skipping its tests.
REQUIRE_ENV = "REVIEW_STUDIO_REQUIRE_POSTGRES"
TEMPLATE = "review_studio_template"


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl live: pg_config's answer, else Debian's versioned folder."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(found.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: as root (CI containers), run it as Debian's postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_server(bin_dir: Path, *, durable: bool = False) -> Iterator[str]:
    """Yields a base URL (no database name) of a server that lives as long as the block. durable=True
    keeps fsync on, as a real server runs (bench/soak.py measures with it)."""
    root = Path(tempfile.mkdtemp(prefix="review-studio-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "review",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    # Loopback only, its socket in the temporary folder; fsync off: a test server never needs to
    # survive a power cut, and it makes each CREATE DATABASE instant. A zone far from UTC, so any time
    # read back in the server's zone or bound as local time fails a test (core.models.UtcDateTime).
    options = (
        f"-h 127.0.0.1 -p {port} -k {root} {'' if durable else '-F '}-c max_connections=200"
        " -c timezone=Pacific/Auckland"
    )
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://review@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(base_url: str, name: str, *, template: str | None = None) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{base_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            copy = f" TEMPLATE {template}" if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        engine.dispose()
    return f"{base_url}/{name}"
