"""list_keywords and get_search_terms against the hand-built market (answers in conftest.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio

US_TOTALS = {"impressions": 8500, "clicks": 165, "spend": 125.0, "orders": 11, "sales": 390.0,
             "acos": 0.3205, "roas": 3.12, "ctr": 0.0194, "cvr": 0.0667, "cpc": 0.7576}
NO_METRICS = {"impressions": 0, "clicks": 0, "spend": 0.0, "orders": 0, "sales": 0.0,
              "acos": None, "roas": None, "ctr": None, "cvr": None, "cpc": None}


def metrics(impressions, clicks, spend, orders, sales, acos, roas, ctr, cvr, cpc) -> dict:
    return {"impressions": impressions, "clicks": clicks, "spend": spend, "orders": orders, "sales": sales,
            "acos": acos, "roas": roas, "ctr": ctr, "cvr": cvr, "cpc": cpc}


def keyword(kid, cid, campaign_name, text, match_type, bid, state, m) -> dict:
    return {"id": kid, "campaign_id": cid, "campaign_name": campaign_name, "ad_group_id": cid, "text": text,
            "match_type": match_type, "bid": bid, "state": state, **m}


KW1 = keyword(1, 1, "US Mats - Manual", "yoga mat", "exact", 1.2, "enabled", metrics(2000, 80, 60.0, 8, 300.0, 0.2, 5.0, 0.04, 0.1, 0.75))
KW2 = keyword(2, 1, "US Mats - Manual", "thick yoga mat", "phrase", 0.9, "enabled", metrics(500, 25, 25.0, 0, 0.0, None, 0.0, 0.05, 0.0, 1.0))
KW3 = keyword(3, 1, "US Mats - Manual", "exercise mat", "broad", 0.7, "paused", NO_METRICS)
KW4 = keyword(4, 2, "US Mats - Auto", "close-match", "broad", 0.8, "enabled", metrics(2000, 40, 30.0, 2, 40.0, 0.75, 1.3333, 0.02, 0.05, 0.75))
KW5 = keyword(5, 3, "US Brand Video", "yoga mat bag", "exact", 1.5, "enabled", NO_METRICS)
KW6 = keyword(6, 4, "US Meta Audience", "yoga", "broad", 0.5, "enabled", metrics(4000, 20, 10.0, 1, 50.0, 0.2, 5.0, 0.005, 0.05, 0.5))


async def test_list_keywords_aggregates_the_default_window_sorted_by_spend(ads):
    assert await ads.ok("list_keywords", site="us") == {
        "site": "us", "start_date": "2026-10-22", "end_date": "2026-11-20", "total": 6, "totals": US_TOTALS,
        "keywords": [KW1, KW4, KW2, KW6, KW3, KW5],
    }


@pytest.mark.parametrize(("filters", "ids"), [
    ({"campaign_id": 4}, [6]),
    ({"ad_group_id": 1}, [1, 2, 3]),
    ({"state": "paused"}, [3]),
    ({"match_type": "exact"}, [1, 5]),
    ({"text_contains": "YOGA"}, [1, 2, 6, 5]),
    ({"min_acos": 0.5}, [4]),
    ({"max_acos": 0.2}, [1, 6]),
    ({"min_acos": 0.1, "max_acos": 0.5}, [1, 6]),
    ({"min_spend": 25}, [1, 4, 2]),
    ({"zero_orders_only": True}, [2, 3, 5]),
    ({"zero_orders_only": True, "min_spend": 20}, [2]),  # the wasted-spend playbook
    ({"sort_by": "cvr"}, [1, 4, 6, 2, 3, 5]),
    ({"sort_by": "cpc", "descending": False}, [6, 1, 4, 2, 3, 5]),
    ({"start_date": "2026-10-01", "end_date": "2026-10-31", "min_spend": 1}, [3]),
])
async def test_list_keywords_filters_and_sorts(ads, filters, ids):
    result = await ads.ok("list_keywords", site="us", **filters)
    assert ([k["id"] for k in result["keywords"]], result["total"]) == (ids, len(ids))


async def test_list_keywords_pages_keep_the_total_and_totals(ads):
    result = await ads.ok("list_keywords", site="us", limit=2, offset=2)
    assert (result["total"], result["totals"], result["keywords"]) == (6, US_TOTALS, [KW2, KW6])
    past_the_end = await ads.ok("list_keywords", site="us", offset=10)
    assert (past_the_end["total"], past_the_end["totals"], past_the_end["keywords"]) == (6, US_TOTALS, [])


async def test_list_keywords_totals_cover_the_filtered_rows(ads):
    wasted = await ads.ok("list_keywords", site="us", zero_orders_only=True)
    assert (wasted["total"], wasted["totals"]) == (3, {k: KW2[k] for k in US_TOTALS})
    nothing = await ads.ok("list_keywords", site="us", text_contains="kettlebell")
    assert (nothing["total"], nothing["totals"]) == (0, NO_METRICS)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"min_acos": 0.5, "max_acos": 0.2}, "VALIDATION_FAILED: min_acos 0.5 is above max_acos 0.2"),
    ({"min_acos": -1}, "VALIDATION_FAILED: list_keywords: min_acos: Input should be greater than or equal to 0"),
    ({"match_type": "negative_exact"}, "VALIDATION_FAILED: list_keywords: match_type: Input should be 'exact', 'phrase', 'broad' or 'auto'"),
    ({"ad_group_id": 5}, "NOT_FOUND: ad group 5 does not exist on site us; list_ad_groups shows the ids"),
    ({"campaign_id": 99}, "NOT_FOUND: campaign 99 does not exist on site us; list_campaigns shows the ids"),
])
async def test_list_keywords_refuses_bad_arguments(ads, arguments, message):
    assert await ads.error("list_keywords", site="us", **arguments) == message


async def test_list_keywords_stays_inside_its_site(ads):
    result = await ads.ok("list_keywords", site="de")
    assert [(k["id"], k["spend"], k["acos"]) for k in result["keywords"]] == [(7, 8.0, 0.125)]


def term(text, cid, campaign_name, targeting, kid, in_manual, negated, m) -> dict:
    return {"search_term": text, "campaign_id": cid, "campaign_name": campaign_name, "targeting": targeting,
            "ad_group_id": cid, "keyword_id": kid, "keyword_text": "yoga mat" if kid == 1 else None,
            "in_manual_campaign": in_manual, "negated_in_campaign": negated, **m}


MANUAL_YOGA_MAT = term("yoga mat", 1, "US Mats - Manual", "manual", 1, True, False,
                       metrics(1000, 50, 40.0, 5, 200.0, 0.2, 5.0, 0.05, 0.1, 0.8))
CORK = term("cork yoga mat", 2, "US Mats - Auto", "auto", None, False, False,
            metrics(300, 20, 15.0, 4, 80.0, 0.1875, 5.3333, 0.0667, 0.2, 0.75))
AUTO_YOGA_MAT = term("yoga mat", 2, "US Mats - Auto", "auto", None, True, False,
                     metrics(200, 10, 8.0, 1, 20.0, 0.4, 2.5, 0.05, 0.1, 0.8))
FREE_YOGA = term("free yoga", 2, "US Mats - Auto", "auto", None, False, True,
                 metrics(100, 10, 7.0, 0, 0.0, None, 0.0, 0.1, 0.0, 0.7))


async def test_get_search_terms_marks_terms_already_in_manual_campaigns_and_negated(ads):
    assert await ads.ok("get_search_terms", site="us") == {
        "site": "us", "start_date": "2026-10-22", "end_date": "2026-11-20", "total": 4,
        "totals": metrics(1600, 90, 70.0, 10, 300.0, 0.2333, 4.2857, 0.0563, 0.1111, 0.7778),
        "search_terms": [MANUAL_YOGA_MAT, CORK, AUTO_YOGA_MAT, FREE_YOGA],
    }


@pytest.mark.parametrize(("filters", "expected"), [
    # the harvest playbook: auto terms that convert and are not yet a manual keyword
    ({"targeting": "auto", "min_orders": 3, "in_manual_campaign": False}, [CORK]),
    ({"in_manual_campaign": True}, [MANUAL_YOGA_MAT, AUTO_YOGA_MAT]),
    ({"min_clicks": 20}, [MANUAL_YOGA_MAT, CORK]),
    ({"keyword_id": 1}, [MANUAL_YOGA_MAT]),
    ({"campaign_id": 2, "sort_by": "cvr"}, [CORK, AUTO_YOGA_MAT, FREE_YOGA]),
    ({"ad_group_id": 2, "term_contains": "cork"}, [CORK]),
    ({"end_date": "2026-11-18", "targeting": "auto"}, [FREE_YOGA]),
])
async def test_get_search_terms_filters(ads, filters, expected):
    result = await ads.ok("get_search_terms", site="us", **filters)
    assert (result["search_terms"], result["total"]) == (expected, len(expected))


async def test_get_search_terms_refuses_foreign_ids(ads):
    assert await ads.error("get_search_terms", site="us", keyword_id=7) == (
        "NOT_FOUND: keyword 7 does not exist on site us; list_keywords shows the ids")
    assert await ads.error("get_search_terms", site="de", campaign_id=1) == (
        "NOT_FOUND: campaign 1 does not exist on site de; list_campaigns shows the ids")
