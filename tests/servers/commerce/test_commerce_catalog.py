"""Catalogue reads: list_products, get_product, list_variants, list_categories (known answers, whole results)."""

from __future__ import annotations

import pytest

from tests.servers.commerce.calls import ok, refused

pytestmark = pytest.mark.anyio

MAT = {"id": 1, "title": "Yoga Mat Pro", "brand": "Zenfit", "status": "active", "category_id": 1, "category": "Yoga",
       "variant_count": 2, "total_stock": 45, "min_price": 25.0, "max_price": 27.0, "created_at": "2026-01-01T00:00:00"}
BLOCK = {"id": 2, "title": "Cork Yoga Block", "brand": "Zenfit", "status": "draft", "category_id": 1, "category": "Yoga",
         "variant_count": 1, "total_stock": 30, "min_price": 12.0, "max_price": 12.0, "created_at": "2026-02-01T00:00:00"}
KNIFE = {"id": 3, "title": "Chef Knife 8in", "brand": "Edge", "status": "archived", "category_id": 2, "category": "Kitchen",
         "variant_count": 1, "total_stock": 0, "min_price": 60.0, "max_price": 60.0, "created_at": "2026-03-01T00:00:00"}
V1 = {"id": 1, "product_id": 1, "product_title": "Yoga Mat Pro", "sku": "MAT-BLU", "asin": "B000MAT1", "option": "Blue",
      "price": 25.0, "cost": 10.0, "status": "active", "on_hand": 40, "reserved": 4, "inbound": 0}
V2 = {"id": 2, "product_id": 1, "product_title": "Yoga Mat Pro", "sku": "MAT-RED", "asin": "B000MAT2", "option": "Red",
      "price": 27.0, "cost": 10.0, "status": "active", "on_hand": 5, "reserved": 5, "inbound": 20}
V4 = {"id": 4, "product_id": 3, "product_title": "Chef Knife 8in", "sku": "KNF-8", "asin": "B000KNF8", "option": "",
      "price": 60.0, "cost": 22.0, "status": "inactive", "on_hand": None, "reserved": None, "inbound": None}


async def test_list_products_whole_page(commerce):
    assert await ok(commerce, "list_products", site="us") == {"total": 3, "products": [MAT, BLOCK, KNIFE]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "draft"}, [BLOCK]),
        ({"category_id": 1}, [MAT, BLOCK]),
        ({"search": "yoga"}, [MAT, BLOCK]),
        ({"search": "100%"}, []),  # LIKE wildcards in the text are literal
        ({"min_price": 26, "max_price": 30}, [MAT]),  # MAT-RED at 27 is in range
        ({"max_price": 20}, [BLOCK]),
        ({"sort_by": "total_stock", "descending": True}, [MAT, BLOCK, KNIFE]),
        ({"sort_by": "min_price"}, [BLOCK, MAT, KNIFE]),
        ({"sort_by": "title"}, [KNIFE, BLOCK, MAT]),
    ],
)
async def test_list_products_filters_and_sorts(commerce, filters, expected):
    result = await ok(commerce, "list_products", site="us", **filters)
    assert result == {"total": len(expected), "products": expected}


async def test_list_products_paginates_with_the_full_total(commerce):
    assert await ok(commerce, "list_products", site="us", limit=1, offset=1) == {"total": 3, "products": [BLOCK]}


async def test_list_products_refuses_a_category_of_another_site(commerce):
    text = await refused(commerce, "list_products", "NOT_FOUND", site="us", category_id=3)
    assert "list_categories" in text


async def test_get_product_with_variants_inventory_and_ratings(commerce):
    assert await ok(commerce, "get_product", site="us", product_id=1) == {
        "id": 1, "title": "Yoga Mat Pro", "brand": "Zenfit", "description": "6 mm", "status": "active",
        "category_id": 1, "category": "Yoga", "created_at": "2026-01-01T00:00:00", "total_stock": 45,
        "variants": [V1, V2],
        "rating": {"count": 4, "average": 3.75, "by_star": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}},
    }


async def test_get_product_without_reviews_or_inventory(commerce):
    result = await ok(commerce, "get_product", site="us", product_id=3)
    assert result["variants"] == [V4]
    assert result["total_stock"] == 0
    assert result["rating"] == {"count": 0, "average": None, "by_star": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}


async def test_get_product_of_another_site_is_not_found(commerce):
    text = await refused(commerce, "get_product", "NOT_FOUND", site="us", product_id=4)
    assert text == "NOT_FOUND: product 4 does not exist on site us; list_products shows the ids"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"sku": "MAT-RED"}, [V2]),
        ({"asin": "B000KNF8"}, [V4]),
        ({"product_id": 1}, [V1, V2]),
        ({"status": "inactive"}, [V4]),
    ],
)
async def test_list_variants(commerce, filters, expected):
    assert await ok(commerce, "list_variants", site="us", **filters) == {"total": len(expected), "variants": expected}


async def test_list_variants_paginates(commerce):
    assert await ok(commerce, "list_variants", site="us", limit=2) == {"total": 4, "variants": [V1, V2]}
    page = await ok(commerce, "list_variants", site="us", limit=2, offset=2)
    assert [v["sku"] for v in page["variants"]] == ["BLK-1", "KNF-8"]


async def test_list_variants_same_sku_on_another_site_is_separate(commerce):
    result = await ok(commerce, "list_variants", site="de", sku="MAT-BLU")
    assert result == {"total": 1, "variants": [{
        "id": 5, "product_id": 4, "product_title": "Yogamatte", "sku": "MAT-BLU", "asin": "B000MAT9", "option": "Blau",
        "price": 24.0, "cost": 9.0, "status": "active", "on_hand": 10, "reserved": 0, "inbound": 0}]}


async def test_list_categories_with_product_counts(commerce):
    assert await ok(commerce, "list_categories", site="us") == {"categories": [
        {"id": 2, "name": "Kitchen", "parent_id": None, "product_count": 1, "active_product_count": 0},
        {"id": 1, "name": "Yoga", "parent_id": None, "product_count": 2, "active_product_count": 1},
    ]}


@pytest.mark.parametrize("tool", ["list_products", "list_categories", "list_variants", "get_inventory_levels",
                                  "list_orders", "list_returns", "list_customers", "list_discount_codes", "list_coupons"])
async def test_reads_need_a_known_site(commerce, tool):
    assert await refused(commerce, tool, "SITE_SCOPE_REQUIRED", site="fr") == (
        "SITE_SCOPE_REQUIRED: unknown site 'fr'; pass one of: de, us")
    await refused(commerce, tool, "SITE_SCOPE_REQUIRED", site="")
    missing = await commerce.call_tool(tool, {})
    assert missing.is_error and "site" in missing.content[0].text


async def test_bad_arguments_are_validation_failed(commerce):
    text = await refused(commerce, "list_products", "VALIDATION_FAILED", site="us", sort_by="price; drop table", limit=501)
    assert "sort_by" in text and "limit" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"variant_id": 1, "price": 25}, "VALIDATION_FAILED", "variant MAT-BLU already costs 25.00; nothing to change"),
        ({"variant_id": 1, "price": 0}, "VALIDATION_FAILED", "price: Input should be greater than 0"),
        ({"variant_id": 1, "price": -3.5}, "VALIDATION_FAILED", "price"),
        ({"variant_id": 5, "price": 20}, "NOT_FOUND", "variant 5 does not exist on site us; list_variants shows the ids"),
    ],
)
async def test_update_price_refusals(commerce, args, code, message):
    assert message in await refused(commerce, "update_price", code, site="us", dry_run=True, **args)


async def test_update_price_of_an_unsold_variant_projects_no_revenue_change(commerce):
    result = await ok(commerce, "update_price", site="us", variant_id=3, price=14.99, dry_run=True)
    assert (result["summary"], result["impact"]) == ("price 12.00 → 14.99", {"daily_revenue_delta": 0.0,
                                                                            "unit_margin_after": 10.99})


async def test_update_product_status(commerce):
    result = await ok(commerce, "update_product_status", site="us", product_id=3, status="draft", dry_run=True)
    assert result == {
        "tool": "update_product_status", "site": "us", "target": "product #3 'Chef Knife 8in'",
        "summary": "status archived → draft", "dry_run": True, "applied": False, "replayed": False,
        "before": {"status": "archived"}, "after": {"status": "draft"},
        "changes": [{"field": "status", "before": "archived", "after": "draft"}], "created_id": None, "impact": {},
    }


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ({"product_id": 1, "status": "active"}, "VALIDATION_FAILED", "product 1 is already active; nothing to change"),
        ({"product_id": 1, "status": "deleted"}, "VALIDATION_FAILED", "status"),
        ({"product_id": 4, "status": "draft"}, "NOT_FOUND", "product 4 does not exist on site us"),
    ],
)
async def test_update_product_status_refusals(commerce, args, code, message):
    assert message in await refused(commerce, "update_product_status", code, site="us", dry_run=True, **args)
