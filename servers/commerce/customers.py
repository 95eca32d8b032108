"""Customer tools: contact details are masked unless the call carries a PII grant for the site."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from servers.commerce.arguments import CustomerId, Descending, Limit, Offset, PiiGrant, Site
from servers.commerce.models import CustomerDetail, CustomerList, CustomerSummary
from servers.commerce.orders import item_count_of_order, order_summaries, summary_select
from servers.commerce.pii import mask_email, mask_phone, pii_allowed
from servers.commerce.query import count_of, ordered, owned
from servers.common.config import ServerConfig
from servers.common.server import READ, MarketServer
from servers.market.db import MarketDB, require_site
from servers.market.metrics import REVENUE_STATUSES
from servers.market.models import Customer, Order

CustomerSort = Literal["id", "name", "created_at", "order_count", "total_spent", "last_order_at"]


def customer_select(site: str, customer_id: int | None = None) -> tuple[Select[Any], dict[str, Any]]:
    """Customers with their order count, spend (paid or later) and last order, plus the sort keys."""
    only = [Order.customer_id == customer_id] if customer_id is not None else []
    stats = (
        select(
            Order.customer_id.label("customer_id"),
            func.count(Order.id).label("order_count"),
            func.sum(case((Order.status.in_(REVENUE_STATUSES), Order.total), else_=0.0)).label("total_spent"),
            func.max(Order.placed_at).label("last_order_at"),
        )
        .where(Order.site_id == site, *only)
        .group_by(Order.customer_id)
        .subquery()
    )
    order_count = func.coalesce(stats.c.order_count, 0)
    total_spent = func.coalesce(stats.c.total_spent, 0.0)
    query = (
        select(Customer, order_count, total_spent, stats.c.last_order_at)
        .outerjoin(stats, stats.c.customer_id == Customer.id)
        .where(Customer.site_id == site)
    )
    sort_columns = {"id": Customer.id, "name": Customer.name, "created_at": Customer.created_at,
                    "order_count": order_count, "total_spent": total_spent, "last_order_at": stats.c.last_order_at}
    return query, sort_columns


def customer_summaries(session: Session, query: Select[Any], *, unmasked: bool) -> list[CustomerSummary]:
    return [
        CustomerSummary(
            id=c.id, name=c.name, country=c.country, created_at=c.created_at,
            email=c.email if unmasked else mask_email(c.email),
            phone=c.phone if unmasked else mask_phone(c.phone),
            order_count=count, total_spent=round(spent, 2), last_order_at=last,
        )
        for c, count, spent, last in session.execute(query)
    ]


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_customers(
        site: Site,
        country: Annotated[str | None, Field(min_length=2, max_length=2, description="ISO country code, e.g. 'US'")] = None,
        search: Annotated[str | None, Field(max_length=120, description="Text the name contains (any case)")] = None,
        sort_by: CustomerSort = "id",
        descending: Descending = False,
        limit: Limit = 50,
        offset: Offset = 0,
        pii_grant: PiiGrant = None,
    ) -> CustomerList:
        """List a site's customers with order count and spend; email and phone masked without a PII grant."""
        unmasked = pii_allowed(config, pii_grant, site)
        with db.reader() as s:
            require_site(s, site)
            query, sort_columns = customer_select(site)
            if country:
                query = query.where(Customer.country == country.upper())
            if search:
                query = query.where(Customer.name.icontains(search, autoescape=True))
            total = count_of(s, query)
            page = query.order_by(ordered(sort_columns[sort_by], descending), Customer.id).limit(limit).offset(offset)
            return CustomerList(total=total, masked=not unmasked, customers=customer_summaries(s, page, unmasked=unmasked))

    @mcp.tool(annotations=READ)
    def get_customer(site: Site, customer_id: CustomerId, pii_grant: PiiGrant = None) -> CustomerDetail:
        """One customer with order stats and the ten newest orders; email and phone masked without a PII grant."""
        unmasked = pii_allowed(config, pii_grant, site)
        with db.reader() as s:
            require_site(s, site)
            owned(s, Customer, customer_id, site, noun="customer", listed_by="list_customers")
            query, _ = customer_select(site, customer_id)
            summary = customer_summaries(s, query.where(Customer.id == customer_id), unmasked=unmasked)[0]
            recent = (summary_select(item_count_of_order()).where(Order.customer_id == customer_id)
                      .order_by(Order.placed_at.desc(), Order.id.desc()).limit(10))
            return CustomerDetail(customer=summary, masked=not unmasked, recent_orders=order_summaries(s, recent))
