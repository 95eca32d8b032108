"""site limits: the largest fixed-amount discount of a coupon or discount code

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 02:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT = 100  # US-dollar sized, scaled for sites in other currencies (round factors, copied as 0005 did)
SCALED_SITES = {"jp": 100, "mx": 20, "br": 5, "se": 10, "pl": 4, "in": 50, "cn": 5}


def upgrade() -> None:
    with op.batch_alter_table('site_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_discount_fixed', sa.Float(), nullable=False, server_default=str(DEFAULT)))
    for site, factor in SCALED_SITES.items():
        op.execute(sa.text("UPDATE site_policies SET max_discount_fixed = max_discount_fixed * :factor "
                           "WHERE site = :site").bindparams(site=site, factor=factor))


def downgrade() -> None:
    with op.batch_alter_table('site_policies', schema=None) as batch_op:
        batch_op.drop_column('max_discount_fixed')
