"""decision log: the verdicts users saved or acted on, and their outcomes against the benchmark

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketdesk.db


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.String(length=40), nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('preset', sa.String(length=40), nullable=False),
    sa.Column('signals', sa.Text(), nullable=False),
    sa.Column('scoring_version', sa.String(length=40), nullable=False),
    sa.Column('config_hash', sa.String(length=16), nullable=False),
    sa.Column('regime', sa.String(length=12), nullable=True),
    sa.Column('universe', sa.String(length=80), nullable=False),
    sa.Column('benchmark', sa.String(length=16), nullable=False),
    sa.Column('price', marketdesk.db.ExactDecimal(length=64), nullable=False),
    sa.Column('price_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', marketdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_decisions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_symbol'), ['symbol'], unique=False)

    op.create_table('decision_outcomes',
    sa.Column('decision_id', sa.String(length=40), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('symbol_return', sa.Float(), nullable=False),
    sa.Column('benchmark_return', sa.Float(), nullable=False),
    sa.Column('excess_return', sa.Float(), nullable=False),
    sa.Column('measured_at', marketdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_decision_outcomes_decision_id_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id', 'horizon_days', name=op.f('pk_decision_outcomes'))
    )


def downgrade() -> None:
    op.drop_table('decision_outcomes')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_symbol'))
        batch_op.drop_index(batch_op.f('ix_decisions_owner_id'))
        batch_op.drop_index(batch_op.f('ix_decisions_decided_at'))

    op.drop_table('decisions')
