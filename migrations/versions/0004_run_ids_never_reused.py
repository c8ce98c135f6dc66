"""run ids are never reused

Without AUTOINCREMENT, SQLite hands the id of a deleted newest run to the next one. A run id is what
users see ("Run #3"), what exported files are named after, and what the app caches loaded models by:
a reused id would show the deleted run's model under the new run's name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 20:30:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rebuild_training_runs(autoincrement=True)


def downgrade() -> None:
    _rebuild_training_runs(autoincrement=False)


def _rebuild_training_runs(*, autoincrement: bool) -> None:
    # SQLite cannot change AUTOINCREMENT in place: rebuild the table (core.db runs this with foreign
    # keys off, so the rebuild does not cascade into the runs' events and predictions).
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table(
        'training_runs', recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
    ):
        pass
