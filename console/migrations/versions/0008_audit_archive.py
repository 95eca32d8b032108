"""audit archive: the ranges of the audit chain moved from audit_log to gzip JSON-lines files; an index that lets
the Audit page count decisions and reads in a time range

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_archives',
    sa.Column('first_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('directory', sa.String(length=1024), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('archived_at', sa.DateTime(), nullable=False),
    sa.Column('archived_by', sa.String(length=254), nullable=False),
    sa.PrimaryKeyConstraint('first_id'),
    sa.UniqueConstraint('last_id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at_event_outcome', ['at', 'event', 'outcome'], unique=False)


def downgrade() -> None:
    # The archived rows stay in their files; a console before this revision cannot verify a chain that starts there.
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at_event_outcome')
    op.drop_table('audit_archives')
