"""Catalogue tools: products, variants, categories; price and product-status writes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from servers.commerce.arguments import (
    Before,
    CategoryFilter,
    Descending,
    DryRun,
    IdemKey,
    Limit,
    Offset,
    Price,
    ProductFilter,
    ProductId,
    Site,
    Token,
    VariantId,
)
from servers.commerce.models import (
    CategoryInfo,
    CategoryList,
    ProductDetail,
    ProductList,
    ProductSummary,
    RatingSummary,
    VariantInfo,
    VariantList,
)
from servers.commerce.query import count_of, ordered, owned
from servers.common import money
from servers.common.config import ServerConfig
from servers.common.errors import ValidationFailed
from servers.common.server import READ, WRITE_IDEMPOTENT, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, require_site
from servers.market.models import Category, InventoryLevel, Product, Review, Variant
from servers.market.writes import Plan, WriteResult, run_write, write_control

ProductStatus = Literal["active", "draft", "archived"]
ProductSort = Literal["id", "title", "created_at", "min_price", "variant_count", "total_stock"]


def variant_rows(session: Session, site: str, *conditions) -> list[VariantInfo]:
    """Variants with their product title and inventory, in id order."""
    query = (
        select(Variant, Product.title, InventoryLevel.on_hand, InventoryLevel.reserved, InventoryLevel.inbound)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(InventoryLevel, InventoryLevel.variant_id == Variant.id)
        .where(Variant.site_id == site, *conditions)
        .order_by(Variant.id)
    )
    return [
        VariantInfo(id=v.id, product_id=v.product_id, product_title=title, sku=v.sku, asin=v.asin, option=v.option,
                    price=v.price, cost=v.cost, status=v.status, on_hand=on_hand, reserved=reserved, inbound=inbound)
        for v, title, on_hand, reserved, inbound in session.execute(query)
    ]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_products(
        site: Site,
        status: ProductStatus | None = None,
        category_id: CategoryFilter = None,
        search: Annotated[str | None, Field(max_length=200, description="Text the title contains (any case)")] = None,
        min_price: Annotated[float | None, Field(ge=0, description="Only products with a variant at this price or more")] = None,
        max_price: Annotated[float | None, Field(ge=0, description="Only products with a variant at this price or less")] = None,
        sort_by: ProductSort = "id",
        descending: Descending = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ProductList:
        """List a site's products with variant count, total stock and price range."""
        with db.reader() as s:
            require_site(s, site)
            per_product = (
                select(
                    Variant.product_id.label("product_id"),
                    func.count(Variant.id).label("variant_count"),
                    func.coalesce(func.sum(InventoryLevel.on_hand), 0).label("total_stock"),
                    func.min(Variant.price).label("min_price"),
                    func.max(Variant.price).label("max_price"),
                )
                .outerjoin(InventoryLevel, InventoryLevel.variant_id == Variant.id)
                .where(Variant.site_id == site)
                .group_by(Variant.product_id)
                .subquery()
            )
            variant_count = func.coalesce(per_product.c.variant_count, 0)
            total_stock = func.coalesce(per_product.c.total_stock, 0)
            query = (
                select(Product, Category.name, variant_count, total_stock, per_product.c.min_price, per_product.c.max_price)
                .outerjoin(Category, Category.id == Product.category_id)
                .outerjoin(per_product, per_product.c.product_id == Product.id)
                .where(Product.site_id == site)
            )
            if status:
                query = query.where(Product.status == status)
            if category_id is not None:
                owned(s, Category, category_id, site, noun="category", listed_by="list_categories")
                query = query.where(Product.category_id == category_id)
            if search:
                query = query.where(Product.title.icontains(search, autoescape=True))
            if min_price is not None or max_price is not None:
                in_range = [Variant.product_id == Product.id]
                if min_price is not None:
                    in_range.append(Variant.price >= min_price)
                if max_price is not None:
                    in_range.append(Variant.price <= max_price)
                query = query.where(exists().where(and_(*in_range)))
            sort_columns = {"id": Product.id, "title": Product.title, "created_at": Product.created_at,
                            "min_price": per_product.c.min_price, "variant_count": variant_count, "total_stock": total_stock}
            total = count_of(s, query)
            rows = s.execute(query.order_by(ordered(sort_columns[sort_by], descending), Product.id).limit(limit).offset(offset))
            return ProductList(total=total, products=[
                ProductSummary(id=p.id, title=p.title, brand=p.brand, status=p.status, category_id=p.category_id,
                               category=category, variant_count=count, total_stock=stock, min_price=lo, max_price=hi,
                               created_at=p.created_at)
                for p, category, count, stock, lo, hi in rows
            ])

    @mcp.tool(annotations=READ)
    def get_product(site: Site, product_id: ProductId) -> ProductDetail:
        """One product with its variants, their inventory, and its rating summary."""
        with db.reader() as s:
            require_site(s, site)
            p = owned(s, Product, product_id, site, noun="product", listed_by="list_products")
            category = s.get(Category, p.category_id) if p.category_id is not None else None
            variants = variant_rows(s, site, Variant.product_id == p.id)
            stars = dict(s.execute(select(Review.rating, func.count()).where(Review.product_id == p.id).group_by(Review.rating)).all())
            count, average = s.execute(select(func.count(Review.id), func.avg(Review.rating)).where(Review.product_id == p.id)).one()
            return ProductDetail(
                id=p.id, title=p.title, brand=p.brand, description=p.description, status=p.status,
                category_id=p.category_id, category=category.name if category else None, created_at=p.created_at,
                total_stock=s.scalar(
                    select(func.coalesce(func.sum(InventoryLevel.on_hand), 0))
                    .join(Variant, Variant.id == InventoryLevel.variant_id)
                    .where(Variant.product_id == p.id)
                ),
                variants=variants,
                rating=RatingSummary(count=count, average=round(average, 2) if average is not None else None,
                                     by_star={str(star): stars.get(star, 0) for star in range(1, 6)}),
            )

    @mcp.tool(annotations=READ)
    def list_variants(
        site: Site,
        sku: Annotated[str | None, Field(description="Exact SKU")] = None,
        asin: Annotated[str | None, Field(description="Exact ASIN")] = None,
        product_id: ProductFilter = None,
        status: Literal["active", "inactive"] | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> VariantList:
        """List variants (SKU/ASIN, price, cost, stock) by SKU, ASIN or product."""
        with db.reader() as s:
            require_site(s, site)
            conditions = []
            if sku:
                conditions.append(Variant.sku == sku)
            if asin:
                conditions.append(Variant.asin == asin)
            if product_id is not None:
                owned(s, Product, product_id, site, noun="product", listed_by="list_products")
                conditions.append(Variant.product_id == product_id)
            if status:
                conditions.append(Variant.status == status)
            total = count_of(s, select(Variant.id).where(Variant.site_id == site, *conditions))
            page = select(Variant.id).where(Variant.site_id == site, *conditions).order_by(Variant.id).limit(limit).offset(offset)
            return VariantList(total=total, variants=variant_rows(s, site, Variant.id.in_(page.scalar_subquery())))

    @mcp.tool(annotations=READ)
    def list_categories(site: Site) -> CategoryList:
        """List a site's categories with how many products (and active products) each holds."""
        with db.reader() as s:
            require_site(s, site)
            query = (
                select(Category, func.count(Product.id), func.count(case((Product.status == "active", Product.id))))
                .outerjoin(Product, Product.category_id == Category.id)
                .where(Category.site_id == site)
                .group_by(Category.id)
                .order_by(Category.name, Category.id)
            )
            return CategoryList(categories=[
                CategoryInfo(id=c.id, name=c.name, parent_id=c.parent_id, product_count=n, active_product_count=active)
                for c, n, active in s.execute(query)
            ])

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_price(
        site: Site,
        variant_id: VariantId,
        price: Annotated[Price, Field(description="New price in the site's currency")],
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Set a variant's price (a write: needs approval); impact projects revenue at current velocity."""
        arguments = {"site": site, "variant_id": variant_id, "price": price}

        def plan(s: Session) -> Plan:
            v = owned(s, Variant, variant_id, site, noun="variant", listed_by="list_variants")
            new_price = money.amount(price, money.PRICE, currency=require_site(s, site).currency, argument="price")
            if new_price == v.price:
                raise ValidationFailed(f"variant {v.sku} already costs {v.price:.2f}; nothing to change")
            inventory = s.get(InventoryLevel, v.id)
            velocity = inventory.velocity_per_day if inventory else 0.0

            def apply(s: Session) -> None:
                v.price = new_price

            return Plan(
                target=f"variant #{v.id} {v.sku}",
                before={"price": v.price},
                after={"price": new_price},
                summary=f"price {v.price:.2f} → {new_price:.2f}",
                impact={"daily_revenue_delta": round(velocity * (new_price - v.price), 2),
                        "unit_margin_after": round(new_price - v.cost, 2)},
                apply=apply,
            )

        return run_write(db, config, tool="update_price", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_product_status(
        site: Site,
        product_id: ProductId,
        status: Annotated[ProductStatus, Field(description="active (on sale), draft (hidden, editable) or archived")],
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Publish, unpublish (draft) or archive a product (a write: needs approval)."""
        arguments = {"site": site, "product_id": product_id, "status": status}

        def plan(s: Session) -> Plan:
            p = owned(s, Product, product_id, site, noun="product", listed_by="list_products")
            if p.status == status:
                raise ValidationFailed(f"product {p.id} is already {status}; nothing to change")

            def apply(s: Session) -> None:
                p.status = status

            return Plan(target=f"product #{p.id} '{p.title}'", before={"status": p.status}, after={"status": status},
                        summary=f"status {p.status} → {status}", apply=apply)

        return run_write(db, config, tool="update_product_status", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
