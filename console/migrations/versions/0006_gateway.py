"""gateway: tool groups with sites, writes, per-tool switches and timeouts; API key expiry and rotation; a gateway
caller's active site; the OAuth state of the console as authorization server

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:20:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tool_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sites', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('writes', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('created_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
    # Groups made before the gateway kept their tools as patterns; they reach no site until an admin names them.
    op.execute(sa.text("UPDATE tool_groups SET sites = '[]' WHERE sites IS NULL"))
    with op.batch_alter_table('tool_groups', schema=None) as batch_op:
        batch_op.alter_column('sites', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('replaced_by', sa.Integer(), nullable=True))
    op.create_table('tool_group_tools',
    sa.Column('group', sa.String(length=64), nullable=False),
    sa.Column('tool', sa.String(length=128), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('timeout_s', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['group'], ['tool_groups.name'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group', 'tool')
    )
    op.create_table('gateway_active_sites',
    sa.Column('principal', sa.String(length=400), nullable=False),
    sa.Column('site', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('principal')
    )
    op.create_table('oauth_clients',
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('client_id')
    )
    op.create_table('oauth_requests',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=True),
    sa.Column('user', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('oauth_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=254), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=True),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('redirect_uri_provided_explicitly', sa.Boolean(), nullable=False),
    sa.Column('resource', sa.String(length=2000), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('oauth_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('user', sa.String(length=254), nullable=False),
    sa.Column('group', sa.String(length=64), nullable=True),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('resource', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_oauth_tokens_family', ['family'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_oauth_tokens_family')
    for table in ('oauth_tokens', 'oauth_codes', 'oauth_requests', 'oauth_clients', 'gateway_active_sites',
                  'tool_group_tools'):
        op.drop_table(table)
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('replaced_by')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('tool_groups', schema=None) as batch_op:
        for column in ('updated_at', 'created_by', 'enabled', 'writes', 'sites', 'title'):
            batch_op.drop_column(column)
