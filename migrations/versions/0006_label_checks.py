"""labels a person checked and kept

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 01:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('label_checks',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('label_class_id', sa.Integer(), nullable=False),
    sa.Column('suggested_label_id', sa.Integer(), nullable=True),
    sa.Column('annotator_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id'], name=op.f('fk_label_checks_annotator_id_annotators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['label_class_id'], ['label_classes.id'], name=op.f('fk_label_checks_label_class_id_label_classes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_label_checks_record_id_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggested_label_id'], ['label_classes.id'], name=op.f('fk_label_checks_suggested_label_id_label_classes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_label_checks'))
    )


def downgrade() -> None:
    op.drop_table('label_checks')
