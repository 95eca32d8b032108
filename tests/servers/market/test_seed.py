"""The demo seed: deterministic, shaped for every playbook, refuses to mix with existing data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, func, select, text

from servers.market.__main__ import main
from servers.market.models import (
    Base,
    CampaignBudgetHour,
    KeywordDailyMetric,
    Order,
    Product,
    Review,
    SearchTermDailyMetric,
    Site,
)
from servers.market.seed import MarketNotEmpty, seed_market
from servers.market.seed_words import INJECTIONS
from tests.support.market import SEED, TODAY, sqlite_url


def checksum(url: str) -> dict[str, object]:
    """Row counts of every table plus sums that move if any generated number moves."""
    engine = create_engine(url)
    with engine.connect() as conn:
        out: dict[str, object] = {t.name: conn.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
        out["spend"] = round(conn.scalar(select(func.sum(KeywordDailyMetric.spend))), 2)
        out["revenue"] = round(conn.scalar(select(func.sum(Order.total))), 2)
        out["budget_spend"] = round(conn.scalar(select(func.sum(CampaignBudgetHour.spend))), 2)
        out["keywords"] = conn.scalar(text("select group_concat(text, '|') from (select text from keywords order by id)"))
    engine.dispose()
    return out


def test_same_seed_same_data_other_seed_other_data(market_template, market_url, tmp_path):
    template = checksum(sqlite_url(market_template))
    again = seed_market(market_url, scale="demo", seed=SEED, today=TODAY, force=True)  # wipes, then reseeds
    assert checksum(market_url) == template
    assert again.counts["keyword_daily_metrics"] == template["keyword_daily_metrics"]
    other = sqlite_url(tmp_path / "other.db")
    seed_market(other, scale="demo", seed=SEED + 1, today=TODAY)
    assert checksum(other)["spend"] != template["spend"]


def test_refuses_a_database_that_has_data(market_url, capsys):
    with pytest.raises(MarketNotEmpty):
        seed_market(market_url, seed=SEED, today=TODAY)
    assert main(["--url", market_url, "seed", "--today", "2026-11-20"]) == 2
    assert "--force" in capsys.readouterr().err


def test_cli_migrates_an_empty_database(tmp_path, capsys):
    url = sqlite_url(tmp_path / "m.db")
    assert main(["--url", url, "migrate"]) == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Site)) == 0
    engine.dispose()


def test_demo_shape(market_url):
    engine = create_engine(market_url)
    with engine.connect() as conn:
        sites = conn.execute(select(Site.id, Site.currency, Site.acos_target).order_by(Site.id)).all()
        assert sites == [("de", "EUR", 0.30), ("jp", "JPY", 0.25), ("us", "USD", 0.30)]
        first, last, days = conn.execute(select(func.min(KeywordDailyMetric.date), func.max(KeywordDailyMetric.date),
                                                func.count(func.distinct(KeywordDailyMetric.date)))).one()
        assert (first, last, days) == (dt.date(2026, 8, 22), dt.date(2026, 11, 19), 90)
        # 24 hourly rows for every campaign-day
        hours, campaign_days = conn.execute(text(
            "select count(*), count(distinct campaign_id || '/' || date) from campaign_budget_hours")).one()
        assert hours == 24 * campaign_days
        today = dict(conn.execute(select(Order.status, func.count()).where(Order.placed_date == TODAY).group_by(Order.status)).all())
        assert set(today) == {"paid", "pending"} and today["paid"] > 50
        statuses = set(conn.scalars(select(Order.status).distinct()))
        assert statuses == {"pending", "paid", "shipped", "delivered", "cancelled", "returned"}
        jp_prices = conn.scalars(text("select price from variants where site_id = 'jp'")).all()
        assert min(jp_prices) >= 100 and all(p == int(p) for p in jp_prices)  # yen, no decimals
        planted = {
            "product": conn.scalar(select(func.count()).where(Product.description.contains(INJECTIONS[0]))),
            "review": conn.scalar(select(func.count()).where(Review.body.contains(INJECTIONS[2]))),
            "search term": conn.scalar(select(func.count()).where(SearchTermDailyMetric.search_term == INJECTIONS[0])),
        }
        assert all(planted.values()), planted
    engine.dispose()
