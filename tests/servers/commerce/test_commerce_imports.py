"""Product import: analyze_product_import (a pure read) and commit_product_import (one transaction)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from servers.common.approval import canonical_json
from servers.market.models import Category, InventoryLevel, Product, ProductImport, Variant
from tests.servers.commerce.calls import approved, ok, refused, snapshot
from tests.servers.commerce.conftest import SECRET

pytestmark = pytest.mark.anyio

ROWS = [
    {"sku": "STRAP-BLK", "title": "Yoga Strap", "price": "9.50", "category": "Yoga", "stock": 12, "option": "Black",
     "handle": "strap"},
    {"sku": "STRAP-GRN", "title": "Yoga Strap", "price": 9.5, "category": "yoga", "stock": "8", "option": "Green",
     "handle": "strap"},
    {"sku": "BOTTLE-1", "title": "Steel Bottle", "price": 15, "category": "Outdoor", "cost": 5, "brand": "Hydra",
     "status": "active"},
]
CSV = """sku,title,price,category,stock,option,handle,cost,brand,status
STRAP-BLK,Yoga Strap,9.50,Yoga,12,Black,strap,,,
STRAP-GRN,Yoga Strap,9.5,yoga,8,Green,strap,,,
BOTTLE-1,Steel Bottle,15,Outdoor,,,,5,Hydra,active
"""
NORMALISED = [
    {"row": 1, "handle": "strap", "sku": "STRAP-BLK", "title": "Yoga Strap", "price": 9.5, "cost": 0.0, "category": "Yoga",
     "stock": 12, "brand": "", "asin": "", "option": "Black", "status": "draft"},
    {"row": 2, "handle": "strap", "sku": "STRAP-GRN", "title": "Yoga Strap", "price": 9.5, "cost": 0.0, "category": "Yoga",
     "stock": 8, "brand": "", "asin": "", "option": "Green", "status": "draft"},
    {"row": 3, "handle": "BOTTLE-1", "sku": "BOTTLE-1", "title": "Steel Bottle", "price": 15.0, "cost": 5.0,
     "category": "Outdoor", "stock": 0, "brand": "Hydra", "asin": "", "option": "", "status": "active"},
]
DRAFT_ID = hashlib.sha256(canonical_json(NORMALISED).encode()).hexdigest()
CLEAN = {"site": "us", "draft_id": DRAFT_ID, "ok": True, "row_count": 3, "products_to_create": 2, "variants_to_create": 3,
         "new_categories": ["Outdoor"], "rows": NORMALISED, "problems": []}


async def test_analyze_rows_normalises_without_writing(commerce, commerce_url):
    before = snapshot(commerce_url)
    assert await ok(commerce, "analyze_product_import", site="us", rows=ROWS) == CLEAN
    assert snapshot(commerce_url) == before


async def test_analyze_csv_gives_the_same_draft(commerce):
    assert await ok(commerce, "analyze_product_import", site="us", csv_text=CSV) == CLEAN


async def test_analyze_lists_every_problem_by_row(commerce):
    rows = [
        {"sku": "MAT-BLU", "title": "Dup", "price": 5, "category": "Yoga"},
        {"sku": "NEW-1", "title": "A", "price": 0, "category": "Yoga"},
        {"sku": "NEW-2", "title": "B", "price": "abc", "category": "Yoga", "stock": -1},
        {"sku": "NEW-3", "price": 3},
        {"sku": "NEW-4", "title": "C", "price": 3, "category": "Yoga", "prce": 3},
        {"sku": "NEW-5", "title": "D", "price": 3, "category": "Yoga", "handle": "h"},
        {"sku": "NEW-5", "title": "E", "price": 3, "category": "Yoga", "handle": "h"},
        {"sku": "bad sku", "title": "F", "price": 3, "category": "Yoga", "status": "live"},
        {"sku": "NEW-9", "title": "G", "price": "nan", "category": "Yoga", "cost": -0.5, "stock": 1.5},
    ]
    result = await ok(commerce, "analyze_product_import", site="us", rows=rows)
    known = "sku, title, price, category, stock, cost, brand, asin, option, status, handle"
    assert result["problems"] == [
        {"row": 1, "field": "sku", "message": "MAT-BLU already exists on us; update it instead"},
        {"row": 2, "field": "price", "message": "must be more than 0"},
        {"row": 3, "field": "price", "message": "'abc' is not a number"},
        {"row": 3, "field": "stock", "message": "must not be negative"},
        {"row": 4, "field": "category", "message": "required"},
        {"row": 4, "field": "title", "message": "required"},
        {"row": 5, "field": "prce", "message": f"unknown column; known: {known}"},
        {"row": 7, "field": "sku", "message": "NEW-5 is also in row 6"},
        {"row": 7, "field": "title", "message": "differs from row 6 of handle 'h'"},
        {"row": 8, "field": "sku", "message": "use 1-64 letters, digits, '.', '_' or '-'"},
        {"row": 8, "field": "status", "message": "must be active or draft"},
        {"row": 9, "field": "cost", "message": "must not be negative"},
        {"row": 9, "field": "price", "message": "'nan' is not a number"},
        {"row": 9, "field": "stock", "message": "1.5 is not a whole number"},
    ]
    assert (result["ok"], result["row_count"], [r["sku"] for r in result["rows"]]) == (
        False, 9, ["MAT-BLU", "NEW-5", "NEW-5"])


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        ({}, "VALIDATION_FAILED", "pass either rows or csv_text (exactly one)"),
        ({"rows": ROWS, "csv_text": CSV}, "VALIDATION_FAILED", "exactly one"),
        ({"site": "fr", "rows": ROWS}, "SITE_SCOPE_REQUIRED", "unknown site 'fr'"),
    ],
)
async def test_analyze_refusals(commerce, arguments, code, message):
    assert message in await refused(commerce, "analyze_product_import", code, **{"site": "us", **arguments})


async def test_analyze_nothing_is_a_problem_not_a_success(commerce):
    result = await ok(commerce, "analyze_product_import", site="us", rows=[])
    assert (result["ok"], result["problems"]) == (False, [{"row": 0, "field": "rows", "message": "no rows to import"}])


PRICES = {"STRAP-BLK": 9.5, "STRAP-GRN": 9.5, "BOTTLE-1": 15.0}


async def test_commit_creates_everything_in_one_go(commerce, store):
    result = await ok(commerce, "commit_product_import",
                      **approved(SECRET, "commit_product_import", site="us", rows=ROWS, source_name="supplier.csv"))
    assert result == {
        "tool": "commit_product_import", "site": "us", "target": f"product import 'supplier.csv' ({DRAFT_ID[:12]})",
        "summary": "create 2 product(s), 3 SKU(s) priced 9.50–15.00; new categories: Outdoor", "dry_run": False,
        "applied": True, "replayed": False, "before": {},
        "after": {"products_created": 2, "variants_created": 3, "skus": ["STRAP-BLK", "STRAP-GRN", "BOTTLE-1"],
                  "prices": PRICES, "draft_id": DRAFT_ID},
        "changes": [{"field": "products_created", "before": None, "after": 2},
                    {"field": "variants_created", "before": None, "after": 3},
                    {"field": "skus", "before": None, "after": ["STRAP-BLK", "STRAP-GRN", "BOTTLE-1"]},
                    {"field": "prices", "before": None, "after": PRICES},
                    {"field": "draft_id", "before": None, "after": DRAFT_ID}],
        "created_id": 1, "impact": {"units_added": 20.0},
    }
    with store.reader() as s:
        rows = s.execute(
            select(Product.title, Product.status, Category.name, Variant.sku, Variant.option, Variant.price,
                   InventoryLevel.on_hand)
            .join(Category, Category.id == Product.category_id).join(Variant, Variant.product_id == Product.id)
            .join(InventoryLevel, InventoryLevel.variant_id == Variant.id)
            .where(Product.id > 4).order_by(Variant.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("Yoga Strap", "draft", "Yoga", "STRAP-BLK", "Black", 9.5, 12),
            ("Yoga Strap", "draft", "Yoga", "STRAP-GRN", "Green", 9.5, 8),
            ("Steel Bottle", "active", "Outdoor", "BOTTLE-1", "", 15.0, 0),
        ]
        record = s.get_one(ProductImport, 1)
        assert (record.site_id, record.status, record.source_name, record.rows) == ("us", "committed", "supplier.csv", NORMALISED)
    strap = await ok(commerce, "list_products", site="us", search="strap")
    assert [(p["variant_count"], p["total_stock"], p["category"]) for p in strap["products"]] == [(2, 20, "Yoga")]


async def test_commit_with_problems_writes_nothing(commerce, commerce_url):
    before = snapshot(commerce_url)
    rows = [*ROWS, {"sku": "MAT-BLU", "title": "Dup", "price": 5, "category": "Yoga"}]
    text = await refused(commerce, "commit_product_import", "VALIDATION_FAILED",
                         **approved(SECRET, "commit_product_import", site="us", rows=rows))
    assert text == ("VALIDATION_FAILED: the import has 1 problem(s): row 4 sku: MAT-BLU already exists on us; "
                    "update it instead; analyze_product_import lists them all")
    assert snapshot(commerce_url) == before


async def test_commit_twice_under_new_approvals_is_refused(commerce, store):
    await ok(commerce, "commit_product_import", **approved(SECRET, "commit_product_import", 1, site="us", csv_text=CSV))
    text = await refused(commerce, "commit_product_import", "VALIDATION_FAILED",
                         **approved(SECRET, "commit_product_import", 2, site="us", csv_text=CSV))
    assert "STRAP-BLK already exists on us" in text
    with store.reader() as s:
        assert s.scalar(select(func.count()).select_from(Variant).where(Variant.sku == "STRAP-BLK")) == 1
