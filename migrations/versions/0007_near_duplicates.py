"""records set aside as near-duplicates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 03:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('records', sa.Column('duplicate_of', sa.Integer(), nullable=True))
    op.create_index('ix_records_dataset_duplicate', 'records', ['dataset_id', 'duplicate_of'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_records_dataset_duplicate', table_name='records')
    with op.batch_alter_table('records') as batch:
        batch.drop_column('duplicate_of')
