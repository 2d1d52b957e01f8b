"""brackets and OCO: the order class of desk orders; the paper broker's order class, exits and leg links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketdesk.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing rows are simple orders; a bracket's legs and OCO links exist only from here on
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_class', sa.String(length=8), server_default='simple', nullable=False))

    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_class', sa.String(length=8), server_default='simple', nullable=False))
        batch_op.add_column(sa.Column('take_profit', marketdesk.db.ExactDecimal(length=64), nullable=True))
        batch_op.add_column(sa.Column('stop_loss', marketdesk.db.ExactDecimal(length=64), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('paper_orders', schema=None) as batch_op:
        batch_op.drop_column('parent_id')
        batch_op.drop_column('stop_loss')
        batch_op.drop_column('take_profit')
        batch_op.drop_column('order_class')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('order_class')
