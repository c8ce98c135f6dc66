"""adjudications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:24:12.017036
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('adjudications',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('label_class_id', sa.Integer(), nullable=False),
    sa.Column('annotator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id'], name=op.f('fk_adjudications_annotator_id_annotators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['label_class_id'], ['label_classes.id'], name=op.f('fk_adjudications_label_class_id_label_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_adjudications_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_adjudications'))
    )


def downgrade() -> None:
    op.drop_table('adjudications')
