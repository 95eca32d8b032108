"""trust: operations carry their approval nonce and token expiry; audit rows name the key that MACs them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('token_expires_at', sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_operations_nonce', ['nonce'])
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('key_id')
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_operations_nonce', type_='unique')
        batch_op.drop_column('token_expires_at')
        batch_op.drop_column('nonce')
