"""covering indexes for per-keyword and per-campaign metric aggregation

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ["date", "impressions", "clicks", "spend", "orders", "units", "sales"]


def upgrade() -> None:
    op.create_index("ix_kdm_site_keyword_cover", "keyword_daily_metrics", ["site_id", "keyword_id", *COLUMNS])
    op.create_index("ix_kdm_site_campaign_cover", "keyword_daily_metrics", ["site_id", "campaign_id", *COLUMNS])


def downgrade() -> None:
    op.drop_index("ix_kdm_site_campaign_cover", table_name="keyword_daily_metrics")
    op.drop_index("ix_kdm_site_keyword_cover", table_name="keyword_daily_metrics")
