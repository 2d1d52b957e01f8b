"""audit hash not indexed: the unique constraint on audit_log.hash goes

Every entry's hash is a SHA-256 of its content chained to the one before, so two entries never share one, and
nothing looks an entry up by its hash (the chain is read and verified by `seq`, its primary key, which is what
stops two appends from forking it). The constraint's index was written at a random place on every append, four
times per order: about one page in six of what an order's two commits write on SQLite.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_log_hash'), type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_audit_log_hash'), ['hash'])
