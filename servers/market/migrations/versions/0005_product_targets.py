"""product targets: a manual ad group's bid on one ASIN (harvested ASIN search terms land here)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("ad_group_id", sa.Integer(), nullable=False),
        sa.Column("asin", sa.String(length=16), nullable=False),
        sa.Column("bid", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["ad_group_id"], ["ad_groups.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("product_targets") as batch_op:
        batch_op.create_index(batch_op.f("ix_product_targets_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_targets_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_product_targets_ad_group_id"), ["ad_group_id"], unique=False)


def downgrade() -> None:
    op.drop_table("product_targets")
