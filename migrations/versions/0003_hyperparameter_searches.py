"""hyperparameter searches

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 11:47:54.882553
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hyperparameter_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('preset', sa.String(length=40), nullable=True),
    sa.Column('base_config', sa.JSON(), nullable=False),
    sa.Column('space', sa.JSON(), nullable=False),
    sa.Column('trials', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('stopped', sa.Boolean(), nullable=False),
    sa.Column('stop_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_hyperparameter_searches_dataset_id_datasets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hyperparameter_searches'))
    )
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('trial_number', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_training_runs_search_id'), ['search_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_training_runs_search_id_hyperparameter_searches'), 'hyperparameter_searches', ['search_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_training_runs_search_id_hyperparameter_searches'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_training_runs_search_id'))
        batch_op.drop_column('trial_number')
        batch_op.drop_column('search_id')

    op.drop_table('hyperparameter_searches')
