"""proposals: evidence, intent and supersedes on operations; site limits on creations and per-target daily totals

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY_COLUMNS = (("max_new_daily_budget", "500"), ("max_new_bid", "5"), ("max_discount_pct", "50"),
                  ("max_promotion_budget", "5000"), ("import_price_min", "1"), ("import_price_max", "10000"),
                  ("max_stock_change", "5000"), ("max_target_daily_change_pct", "50"))

NEW_AMOUNTS = ("max_new_daily_budget", "max_new_bid", "max_promotion_budget", "import_price_min", "import_price_max")
SCALED_SITES = {"jp": 100, "mx": 20, "br": 5, "se": 10, "pl": 4, "in": 50, "cn": 5}


def upgrade() -> None:
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('intent', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('supersedes', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_operations_intent'), ['intent'], unique=False)
    with op.batch_alter_table('site_policies', schema=None) as batch_op:
        for name, default in POLICY_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=False, server_default=default))
    # The new amount limits are dollar-sized; a site saved before in another currency gets them scaled
    # (the same round factors as mcp_bridge/catalog/site_limits.py, copied: a migration must not move with the code).
    for site, factor in SCALED_SITES.items():
        op.execute(sa.text(
            "UPDATE site_policies SET " + ", ".join(f"{c} = {c} * {factor}" for c in NEW_AMOUNTS) + " WHERE site = :site"
        ).bindparams(site=site))


def downgrade() -> None:
    with op.batch_alter_table('site_policies', schema=None) as batch_op:
        for name, _ in reversed(POLICY_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operations_intent'))
        batch_op.drop_column('supersedes')
        batch_op.drop_column('intent')
        batch_op.drop_column('evidence')
