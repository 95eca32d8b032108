"""write ledger: a spent nonce records whether its write was applied or refused

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applied_writes") as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=False, server_default="applied"))


def downgrade() -> None:
    with op.batch_alter_table("applied_writes") as batch_op:
        batch_op.drop_column("outcome")
