"""Promotion tools: store discount codes and marketplace coupons (list, create, pause, disable)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from servers.commerce.arguments import (
    Before,
    CouponId,
    DiscountCodeId,
    DryRun,
    IdemKey,
    Limit,
    Offset,
    Site,
    Token,
    VariantId,
)
from servers.commerce.models import CouponInfo, CouponList, DiscountCodeInfo, DiscountCodeList
from servers.commerce.query import count_of, owned
from servers.common import money
from servers.common.config import ServerConfig
from servers.common.errors import Conflict, ValidationFailed
from servers.common.inputs import INT_MAX
from servers.common.server import READ, WRITE_ADDITIVE, WRITE_DESTRUCTIVE, WRITE_IDEMPOTENT, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, parse_date_range, require_site
from servers.market.models import Coupon, DiscountCode, Variant
from servers.market.writes import Plan, WriteResult, run_write, write_control

Kind = Annotated[Literal["percent", "fixed"], Field(description="percent off, or a fixed amount off")]
Value = Annotated[float, Field(gt=0, le=money.DISCOUNT_AMOUNT.high,
                               description="Percent (0.01-100) or amount in the site's currency")]
CouponBudget = Annotated[float, Field(gt=0, le=money.COUPON_BUDGET.high, description="Most the coupon may cost in total")]
StartsOn = Annotated[str | None, Field(description="First day it applies, ISO date (default: today)")]
EndsOn = Annotated[str | None, Field(description="Last day it applies, ISO date (default: open-ended)")]


def validity(starts_on: str | None, ends_on: str | None, today: dt.date) -> tuple[dt.datetime, dt.datetime | None]:
    """The validity window as datetimes: from the start of the first day to the end of the last."""
    start, end = parse_date_range(starts_on or today.isoformat(), ends_on or starts_on or today.isoformat(),
                                  names=("starts_on", "ends_on"))
    if ends_on is None:
        return dt.datetime.combine(start, dt.time()), None
    return dt.datetime.combine(start, dt.time()), dt.datetime.combine(end, dt.time(23, 59, 59))


def discount_value(kind: str, value: float, currency: str) -> float:
    """The discount as written: a percentage off, or an amount in the site's currency that does not round to nothing."""
    if kind == "percent":
        return money.percent(value, argument="value")
    return money.amount(value, money.DISCOUNT_AMOUNT, currency=currency, argument="value")


def iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def list_discount_codes(
        site: Site,
        status: Literal["active", "disabled", "expired"] | None = None,
        search: Annotated[str | None, Field(max_length=40, description="Text the code contains")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DiscountCodeList:
        """List a site's store discount codes with usage, newest first."""
        with db.reader() as s:
            require_site(s, site)
            conditions: list[ColumnElement[bool]] = [DiscountCode.site_id == site]
            if status:
                conditions.append(DiscountCode.status == status)
            if search:
                conditions.append(DiscountCode.code.icontains(search, autoescape=True))
            total = count_of(s, select(DiscountCode.id).where(*conditions))
            rows = s.scalars(select(DiscountCode).where(*conditions).order_by(DiscountCode.id.desc()).limit(limit).offset(offset))
            return DiscountCodeList(total=total, discount_codes=[
                DiscountCodeInfo(id=d.id, code=d.code, kind=d.kind, value=d.value, starts_at=d.starts_at,
                                 ends_at=d.ends_at, usage_limit=d.usage_limit, used_count=d.used_count, status=d.status)
                for d in rows
            ])

    @mcp.tool(annotations=READ)
    def list_coupons(
        site: Site,
        status: Literal["active", "paused", "ended"] | None = None,
        sku: Annotated[str | None, Field(description="Exact SKU the coupon is on")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CouponList:
        """List a site's marketplace coupons with budget spent and left, newest first."""
        with db.reader() as s:
            require_site(s, site)
            conditions: list[ColumnElement[bool]] = [Coupon.site_id == site]
            if status:
                conditions.append(Coupon.status == status)
            if sku:
                conditions.append(Variant.sku == sku)
            base = select(Coupon, Variant.sku).join(Variant, Variant.id == Coupon.variant_id).where(*conditions)
            total = count_of(s, base)
            rows = s.execute(base.order_by(Coupon.id.desc()).limit(limit).offset(offset))
            return CouponList(total=total, coupons=[
                CouponInfo(id=c.id, variant_id=c.variant_id, sku=variant_sku, kind=c.kind, value=c.value, budget=c.budget,
                           spent=c.spent, budget_left=round(c.budget - c.spent, 2), status=c.status,
                           starts_at=c.starts_at, ends_at=c.ends_at)
                for c, variant_sku in rows
            ])

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_discount_code(
        site: Site,
        code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{3,40}$", description="The code shoppers type (stored upper-case)")],
        kind: Kind,
        value: Value,
        starts_on: StartsOn = None,
        ends_on: EndsOn = None,
        usage_limit: Annotated[int | None, Field(ge=1, le=INT_MAX, description="Most uses in total (default: unlimited)")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Create a store discount code; an existing code answers CONFLICT (a write: needs approval)."""
        arguments = {"site": site, "code": code, "kind": kind, "value": value, "starts_on": starts_on,
                     "ends_on": ends_on, "usage_limit": usage_limit}

        def plan(s: Session) -> Plan:
            off_value = discount_value(kind, value, require_site(s, site).currency)
            starts_at, ends_at = validity(starts_on, ends_on, config.today())
            normalised = code.upper()
            taken = s.scalar(select(DiscountCode).where(DiscountCode.site_id == site, func.upper(DiscountCode.code) == normalised))
            if taken is not None:
                raise Conflict(f"discount code {normalised} already exists on {site} (id {taken.id}, {taken.status}); "
                               "pick another code")
            after: dict[str, Any] = {"code": normalised, "kind": kind, "value": off_value, "starts_at": iso(starts_at),
                                     "ends_at": iso(ends_at), "usage_limit": usage_limit, "status": "active"}

            def apply(s: Session) -> int:
                row = DiscountCode(site_id=site, code=normalised, kind=kind, value=off_value, starts_at=starts_at,
                                   ends_at=ends_at, usage_limit=usage_limit, used_count=0, status="active")
                s.add(row)
                s.flush()
                return row.id

            off = f"{off_value:g}%" if kind == "percent" else f"{off_value:.2f}"
            return Plan(target=f"discount code {normalised}", before={}, after=after, summary=f"new code {normalised}: {off} off",
                        apply=apply)

        return run_write(db, config, tool="create_discount_code", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_DESTRUCTIVE)
    def disable_discount_code(
        site: Site,
        discount_code_id: DiscountCodeId,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Disable an active discount code so shoppers can no longer use it (a write: needs approval)."""
        arguments = {"site": site, "discount_code_id": discount_code_id}

        def plan(s: Session) -> Plan:
            d = owned(s, DiscountCode, discount_code_id, site, noun="discount code", listed_by="list_discount_codes")
            if d.status != "active":
                raise ValidationFailed(f"discount code {d.code} is {d.status}; only active codes can be disabled")

            def apply(s: Session) -> None:
                d.status = "disabled"

            return Plan(target=f"discount code #{d.id} {d.code}", before={"status": d.status}, after={"status": "disabled"},
                        summary=f"status {d.status} → disabled", apply=apply)

        return run_write(db, config, tool="disable_discount_code", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def create_coupon(
        site: Site,
        variant_id: VariantId,
        kind: Kind,
        value: Value,
        budget: CouponBudget,
        starts_on: StartsOn = None,
        ends_on: EndsOn = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Create a marketplace coupon on one SKU; one live coupon per SKU (a write: needs approval)."""
        arguments = {"site": site, "variant_id": variant_id, "kind": kind, "value": value, "budget": budget,
                     "starts_on": starts_on, "ends_on": ends_on}

        def plan(s: Session) -> Plan:
            v = owned(s, Variant, variant_id, site, noun="variant", listed_by="list_variants")
            currency = require_site(s, site).currency
            off_value = discount_value(kind, value, currency)
            total = money.amount(budget, money.COUPON_BUDGET, currency=currency, argument="budget")
            if kind == "fixed" and off_value >= v.price:
                raise ValidationFailed(f"a fixed coupon must be below the price of {v.sku} ({v.price:.2f})")
            starts_at, ends_at = validity(starts_on, ends_on, config.today())
            live = s.scalar(select(Coupon).where(Coupon.variant_id == v.id, Coupon.status.in_(["active", "paused"])))
            if live is not None:
                raise Conflict(f"{v.sku} already has coupon {live.id} ({live.status}); update_coupon changes it")
            after: dict[str, Any] = {"variant_id": v.id, "kind": kind, "value": off_value, "budget": total,
                                     "starts_at": iso(starts_at), "ends_at": iso(ends_at), "status": "active"}

            def apply(s: Session) -> int:
                row = Coupon(site_id=site, variant_id=v.id, kind=kind, value=off_value, budget=total, spent=0.0,
                             status="active", starts_at=starts_at, ends_at=ends_at)
                s.add(row)
                s.flush()
                return row.id

            off = f"{off_value:g}%" if kind == "percent" else f"{off_value:.2f}"
            return Plan(target=f"coupon on variant #{v.id} {v.sku}", before={}, after=after,
                        summary=f"new coupon {off} off {v.sku}, budget {total:.2f}", impact={"budget_delta": total},
                        apply=apply)

        return run_write(db, config, tool="create_coupon", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)

    @mcp.tool(annotations=WRITE_IDEMPOTENT)
    def update_coupon(
        site: Site,
        coupon_id: CouponId,
        status: Annotated[Literal["active", "paused"] | None, Field(description="Pause or resume the coupon")] = None,
        budget: Annotated[CouponBudget | None, Field(description="New total budget")] = None,
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Pause or resume a coupon and/or change its budget (a write: needs approval)."""
        arguments = {"site": site, "coupon_id": coupon_id, "status": status, "budget": budget}

        def plan(s: Session) -> Plan:
            c = owned(s, Coupon, coupon_id, site, noun="coupon", listed_by="list_coupons")
            if status is None and budget is None:
                raise ValidationFailed("pass status and/or budget")
            if c.status == "ended":
                raise ValidationFailed(f"coupon {c.id} has ended; create_coupon starts a new one")
            total = None if budget is None else money.amount(
                budget, money.COUPON_BUDGET, currency=require_site(s, site).currency, argument="budget")
            if total is not None and total < c.spent:
                raise ValidationFailed(f"coupon {c.id} has already spent {c.spent:.2f}; the budget cannot go below that")
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            if status is not None and status != c.status:
                before["status"], after["status"] = c.status, status
            if total is not None and total != c.budget:
                before["budget"], after["budget"] = c.budget, total
            if not after:
                raise ValidationFailed(f"coupon {c.id} is already {c.status} with budget {c.budget:.2f}; nothing to change")

            def apply(s: Session) -> None:
                c.status = after.get("status", c.status)
                c.budget = after.get("budget", c.budget)

            impact = {"budget_delta": round(after["budget"] - c.budget, 2)} if "budget" in after else {}
            return Plan(target=f"coupon #{c.id}", before=before, after=after, impact=impact, apply=apply)

        return run_write(db, config, tool="update_coupon", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
