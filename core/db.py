"""Engine, sessions and migrations.

One `Database` per process and URL. Services open one session per unit of work:

    with db.read() as s: ...     # plain BEGIN: readers never block each other in WAL mode
    with db.write() as s: ...    # BEGIN IMMEDIATE: takes the write lock up front

Why BEGIN IMMEDIATE for writes: a deferred transaction that reads first and then writes must upgrade
its lock, and in WAL mode SQLite answers a contended upgrade with SQLITE_BUSY at once, without honouring
busy_timeout. Taking the lock at BEGIN lets busy_timeout queue writers instead of failing them halfway.

Why writers of one process also queue, first come first served, on a lock of their own: SQLite's busy
handler polls with sleeps that grow to 100 ms and serves whoever polls at the right moment, so with 8
writers a save waited up to half a second (p99 537 ms in tests/integration/test_soak.py) while another
thread saved again and again. In turn, each waits for the writers ahead of it only; busy_timeout still
queues writers of other processes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.config import PROJECT_ROOT, Settings

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
BUSY_TIMEOUT_MS = 30_000
# FULL: every acknowledged label survives a power cut, not only a crash; WAL keeps the cost low.
SQLITE_SYNCHRONOUS = "FULL"
# 64 MiB page cache per connection (negative = KiB): bulk imports maintain several indexes at once,
# and the 2 MiB default makes them spill to disk.
SQLITE_CACHE_KIB = 65_536
_BEGIN_MODE_OPTION = "review_studio_begin_mode"


class WriteTurns:
    """A first-come, first-served lock that hands itself straight to the next waiter (one wake-up, not a
    stampede). Re-entrant: a nested write in one thread goes straight on, and SQLite's own lock decides
    as before."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return
            if not self._held:
                self._held, self._owner, self._depth = True, me, 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # set by the holder, which passes the lock on without releasing it
        with self._guard:
            self._owner, self._depth = me, 1

    def __exit__(self, *_exc: object) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {}
        if self.is_sqlite:
            # The pool hands a connection to one thread at a time; the training thread needs its own.
            connect_args = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        self.engine: Engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not self.is_sqlite)
        writer: Engine = self.engine
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)
            writer = self.engine.execution_options(**{_BEGIN_MODE_OPTION: "IMMEDIATE"})
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self._write_turns: WriteTurns | None = WriteTurns() if self.is_sqlite else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader.begin() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write_turns or nullcontext(), self._writer.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below (pysqlite would otherwise
        # emit its own deferred BEGIN lazily, before the first DML statement).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(database: Database) -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade_schema(database: Database) -> None:
    """Bring the schema to the newest migration; an existing database is upgraded, never recreated.

    On SQLite, foreign keys are off while migrations run. A batch migration rebuilds a table (copy,
    DROP, rename), and with foreign keys on, the DROP deletes every child row through ON DELETE
    CASCADE: rebuilding `training_runs` would erase every run's curves and predictions. The check
    afterwards rolls the upgrade back if a migration left a dangling reference.
    """
    config = alembic_config(database)
    with database.engine.connect() as connection:
        driver = connection.connection.driver_connection if database.is_sqlite else None
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set it before BEGIN
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if driver is not None:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise RuntimeError(f"A migration left rows pointing at nothing: {dangling[:5]}")
        finally:
            if driver is not None:
                driver.execute("PRAGMA foreign_keys=ON")


def open_database(settings: Settings) -> Database:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _ensure_sqlite_parent(settings.database_url)
    database = Database(settings.database_url)
    upgrade_schema(database)
    return database


def _ensure_sqlite_parent(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
