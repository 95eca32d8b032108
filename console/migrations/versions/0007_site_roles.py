"""site roles: a role is held on a site (user_roles.site; '*' = every site of the user's scope, kept for admin);
users.language for the per-user UI language

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVERY_SITE = '*'


def _create_user_roles() -> None:
    op.create_table('user_roles',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('site', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['email'], ['users.email'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('email', 'role', 'site')
    )


def upgrade() -> None:
    op.add_column('users', sa.Column('language', sa.String(length=8), nullable=True))
    conn = op.get_bind()
    grants = [(r[0], r[1]) for r in conn.execute(sa.text('SELECT email, role FROM user_roles'))]
    scopes: dict[str, list[str]] = {}
    for email, site in conn.execute(sa.text('SELECT email, site FROM user_sites ORDER BY site')):
        scopes.setdefault(email, []).append(site)
    # Until now a role held on every site of the user. It becomes one grant per site the user has, so that an admin
    # can take one away; admin stays on every site (it runs the console: users, servers, keys), and so does a role
    # of a user without any site yet (they had no site to hold it on).
    rows = []
    for email, role in grants:
        sites = scopes.get(email, [])
        for site in sites if role != 'admin' and sites else [EVERY_SITE]:
            rows.append({'email': email, 'role': role, 'site': site})
    op.drop_table('user_roles')
    _create_user_roles()
    if rows:
        op.bulk_insert(sa.table('user_roles', sa.column('email', sa.String), sa.column('role', sa.String),
                                sa.column('site', sa.String)), rows)


def downgrade() -> None:
    conn = op.get_bind()
    grants = sorted({(r[0], r[1]) for r in conn.execute(sa.text('SELECT email, role FROM user_roles'))})
    op.drop_table('user_roles')
    op.create_table('user_roles',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['email'], ['users.email'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('email', 'role')
    )
    if grants:
        op.bulk_insert(sa.table('user_roles', sa.column('email', sa.String), sa.column('role', sa.String)),
                       [{'email': e, 'role': r} for e, r in grants])
    # Not a batch (which copies the table on SQLite): dropping the old users table would cascade to its roles and
    # sites. SQLite drops a column in place since 3.35.
    op.drop_column('users', 'language')
