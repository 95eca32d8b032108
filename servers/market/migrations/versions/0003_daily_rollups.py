"""daily rollups: campaign metrics, sales and variant sales per day, backfilled from the raw rows

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The backfill is plain SQL that SQLite and PostgreSQL both run; it is the same computation as
# servers.market.rollups (kept here as text so this migration does not move when that module does).
BACKFILL = (
    """
    INSERT INTO campaign_daily_metrics (site_id, date, campaign_id, impressions, clicks, spend, sales, orders, units)
    SELECT site_id, date, campaign_id, SUM(impressions), SUM(clicks), SUM(spend), SUM(sales), SUM(orders), SUM(units)
    FROM keyword_daily_metrics GROUP BY site_id, date, campaign_id
    """,
    """
    INSERT INTO daily_sales (site_id, date, order_status, orders, revenue, units, returned_units)
    SELECT site_id, placed_date, status, COUNT(*), SUM(total), SUM(units), SUM(returned)
    FROM (SELECT o.site_id, o.placed_date, o.status, o.total,
                 (SELECT COALESCE(SUM(i.quantity), 0) FROM order_items i WHERE i.order_id = o.id) AS units,
                 (SELECT COALESCE(SUM(r.quantity), 0) FROM returns r
                  WHERE r.order_id = o.id AND r.status != 'rejected') AS returned
          FROM orders o) AS per_order
    GROUP BY site_id, placed_date, status
    """,
    """
    INSERT INTO variant_daily_sales (site_id, date, order_status, variant_id, lines, units, revenue, returned_units)
    SELECT site_id, placed_date, status, variant_id, COUNT(*), SUM(quantity), SUM(revenue), SUM(returned)
    FROM (SELECT o.site_id, o.placed_date, o.status, i.variant_id, i.quantity, i.quantity * i.unit_price AS revenue,
                 (SELECT COALESCE(SUM(r.quantity), 0) FROM returns r
                  WHERE r.order_id = i.order_id AND r.order_item_id = i.id AND r.status != 'rejected') AS returned
          FROM orders o JOIN order_items i ON i.order_id = o.id) AS per_line
    GROUP BY site_id, placed_date, status, variant_id
    """,
)


def upgrade() -> None:
    op.create_table(
        "campaign_daily_metrics",
        sa.Column("site_id", sa.String(length=8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("impressions", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("spend", sa.Float(), nullable=False),
        sa.Column("sales", sa.Float(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("site_id", "date", "campaign_id"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "daily_sales",
        sa.Column("site_id", sa.String(length=8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("order_status", sa.String(length=12), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("returned_units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("site_id", "date", "order_status"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "variant_daily_sales",
        sa.Column("site_id", sa.String(length=8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("order_status", sa.String(length=12), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("returned_units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.ForeignKeyConstraint(["variant_id"], ["variants.id"]),
        sa.PrimaryKeyConstraint("site_id", "date", "order_status", "variant_id"),
        sqlite_with_rowid=False,
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("variant_daily_sales")
    op.drop_table("daily_sales")
    op.drop_table("campaign_daily_metrics")
