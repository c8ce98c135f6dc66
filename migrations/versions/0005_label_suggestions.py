"""label descriptions and suggestions recorded with labels

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('label_classes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_label_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_annotations_suggested_label_id_label_classes'),
            'label_classes', ['suggested_label_id'], ['id'], ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_annotations_suggested_label_id_label_classes'), type_='foreignkey')
        batch_op.drop_column('suggested_label_id')
    with op.batch_alter_table('label_classes', schema=None) as batch_op:
        batch_op.drop_column('description')
