"""Product import: `analyze_product_import` validates rows (a read), `commit_product_import` writes them."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from servers.commerce.arguments import UNITS_MAX, Before, DryRun, IdemKey, Site, Token
from servers.commerce.models import ImportAnalysis, ImportProblem, ImportRow
from servers.common import money
from servers.common.approval import canonical_json
from servers.common.config import ServerConfig
from servers.common.errors import ValidationFailed
from servers.common.inputs import quote
from servers.common.server import READ, WRITE_ADDITIVE, MarketServer
from servers.common.server import sent_arguments as signed_arguments
from servers.market.db import MarketDB, require_site
from servers.market.models import Category, InventoryLevel, Product, ProductImport, Variant
from servers.market.writes import Plan, WriteResult, run_write, write_control

MAX_ROWS = 2000
REQUIRED = ("sku", "title", "price", "category")
OPTIONAL = {"stock": 0, "cost": 0.0, "brand": "", "asin": "", "option": "", "status": "draft", "handle": None}
SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LISTED = 3  # problems a refused commit names; analyze_product_import lists them all
LIMITS = {"title": 300, "category": 120, "brand": 120, "asin": 16, "option": 120, "handle": 64}

Rows = Annotated[
    list[dict[str, Any]] | None,
    Field(max_length=MAX_ROWS, description="Rows as objects: sku, title, price, category (required); stock, cost, "
                                           "brand, asin, option, status (active|draft, default draft), handle "
                                           "(rows sharing a handle become variants of one product)"),
]
CsvText = Annotated[str | None, Field(max_length=2_000_000, description="The same columns as CSV with a header row")]


def _number(value: Any, *, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = float(str(value).strip())
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if integer:
        if number != int(number):
            raise ValueError("not a whole number")
        return int(number)
    return number


def _amount_problem(name: str, value: float | int, currency: str) -> str | None:
    """Why a row's price, cost or stock cannot be written (the bounds update_price and update_inventory keep)."""
    if name == "price" and value <= 0:
        return "must be more than 0"
    if value < 0:
        return "must not be negative"
    if name == "stock":
        return f"must be at most {UNITS_MAX:,}" if value > UNITS_MAX else None
    return money.problem(value, money.PRICE if name == "price" else money.COST, currency)


def _parse_row(index: int, raw: dict[str, Any], problems: list[ImportProblem], currency: str) -> ImportRow | None:
    """One normalised row, or None with its problems recorded."""
    found: list[ImportProblem] = []
    values = {str(k).strip().lower(): (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    values = {k: v for k, v in values.items() if v not in (None, "")}
    for name in sorted(set(values) - set(REQUIRED) - set(OPTIONAL)):
        found.append(ImportProblem(row=index, field=name, message=f"unknown column; known: {', '.join([*REQUIRED, *OPTIONAL])}"))
    for name in REQUIRED:
        if name not in values:
            found.append(ImportProblem(row=index, field=name, message="required"))
    row: dict[str, Any] = {**OPTIONAL, **values}
    for name, integer in (("price", False), ("cost", False), ("stock", True)):
        if name not in values:
            continue
        try:
            row[name] = _number(values[name], integer=integer)
        except ValueError:
            found.append(ImportProblem(row=index, field=name,
                                       message=f"{quote(values[name])} is not a {'whole ' if integer else ''}number"))
            continue
        if (problem := _amount_problem(name, row[name], currency)) is not None:
            found.append(ImportProblem(row=index, field=name, message=problem))
    for name in ("sku", "title", "category", "brand", "asin", "option", "status", "handle"):
        if row.get(name) is not None:
            row[name] = str(row[name])
    if "sku" in values and not SKU.match(row["sku"]):
        found.append(ImportProblem(row=index, field="sku", message="use 1-64 letters, digits, '.', '_' or '-'"))
    for name, limit in LIMITS.items():
        if row.get(name) and len(row[name]) > limit:
            found.append(ImportProblem(row=index, field=name, message=f"longer than {limit} characters"))
    if row["status"] not in ("active", "draft"):
        found.append(ImportProblem(row=index, field="status", message="must be active or draft"))
    if found:
        problems += found
        return None
    places = money.digits(currency)
    return ImportRow(row=index, handle=row["handle"] or row["sku"], sku=row["sku"], title=row["title"],
                     price=round(row["price"], places), cost=round(row["cost"], places) + 0.0, category=row["category"],
                     stock=row["stock"], brand=row["brand"], asin=row["asin"], option=row["option"], status=row["status"])


def _raw_rows(rows: list[dict[str, Any]] | None, csv_text: str | None) -> list[dict[str, Any]]:
    if (rows is None) == (csv_text is None):
        raise ValidationFailed("pass either rows or csv_text (exactly one)")
    if rows is not None:
        return rows
    parsed = list(csv.DictReader(io.StringIO(csv_text or "")))
    if len(parsed) > MAX_ROWS:
        raise ValidationFailed(f"{len(parsed)} rows; import at most {MAX_ROWS} at a time")
    return [{k: v for k, v in r.items() if k is not None} for r in parsed]


def analyze(session: Session, site: str, rows: list[dict[str, Any]] | None, csv_text: str | None) -> ImportAnalysis:
    """Validate and normalise the rows against the site's catalogue; nothing is written."""
    raw = _raw_rows(rows, csv_text)
    problems: list[ImportProblem] = []
    if not raw:
        problems.append(ImportProblem(row=0, field="rows", message="no rows to import"))
    currency = require_site(session, site).currency
    parsed = [row for i, r in enumerate(raw, start=1) if (row := _parse_row(i, r, problems, currency)) is not None]
    # Categories match by name in any case; a new one is spelled as its first row spells it.
    spelling = {name.lower(): name for name in session.scalars(select(Category.name).where(Category.site_id == site))}
    known = set(spelling)
    for row in parsed:
        spelling.setdefault(row.category.lower(), row.category)
    parsed = [row.model_copy(update={"category": spelling[row.category.lower()]}) for row in parsed]
    seen: dict[str, int] = {}
    first_of_handle: dict[str, ImportRow] = {}
    for row in parsed:
        if row.sku in seen:
            problems.append(ImportProblem(row=row.row, field="sku", message=f"{row.sku} is also in row {seen[row.sku]}"))
        seen.setdefault(row.sku, row.row)
        head = first_of_handle.setdefault(row.handle, row)
        for name in ("title", "category", "brand"):
            if getattr(row, name) != getattr(head, name):
                problems.append(ImportProblem(row=row.row, field=name,
                                              message=f"differs from row {head.row} of handle {row.handle!r}"))
    existing = set(session.scalars(select(Variant.sku).where(Variant.site_id == site, Variant.sku.in_(list(seen)))))
    problems += [ImportProblem(row=seen[sku], field="sku", message=f"{sku} already exists on {site}; update it instead")
                 for sku in sorted(existing, key=seen.__getitem__)]
    new_categories = sorted({r.category for r in parsed if r.category.lower() not in known})
    problems.sort(key=lambda p: (p.row, p.field))
    return ImportAnalysis(
        site=site,
        draft_id=hashlib.sha256(canonical_json([r.model_dump() for r in parsed]).encode()).hexdigest(),
        ok=not problems,
        row_count=len(raw),
        products_to_create=len(first_of_handle),
        variants_to_create=len(parsed),
        new_categories=new_categories,
        rows=parsed,
        problems=problems,
    )


def write_import(s: Session, site: str, draft: ImportAnalysis, source_name: str) -> int:
    """Create the categories, products, variants and inventory of a clean draft; the import record's id."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    categories = {c.name.lower(): c for c in s.scalars(select(Category).where(Category.site_id == site))}
    for name in draft.new_categories:
        categories[name.lower()] = Category(site_id=site, name=name, parent_id=None)
        s.add(categories[name.lower()])
    s.flush()
    products: dict[str, Product] = {}
    for row in draft.rows:
        product = products.get(row.handle)
        if product is None:
            product = products[row.handle] = Product(
                site_id=site, category_id=categories[row.category.lower()].id, title=row.title, brand=row.brand,
                description="", status=row.status, created_at=now)
            s.add(product)
            s.flush()
        variant = Variant(site_id=site, product_id=product.id, sku=row.sku, asin=row.asin, option=row.option,
                          price=row.price, cost=row.cost, status="active")
        s.add(variant)
        s.flush()
        s.add(InventoryLevel(variant_id=variant.id, site_id=site, on_hand=row.stock, reserved=0, inbound=0,
                             velocity_per_day=0.0, lead_time_days=14, updated_at=now))
    record = ProductImport(site_id=site, status="committed", source_name=source_name,
                           rows=[r.model_dump() for r in draft.rows], problems=[], created_at=now, committed_at=now)
    s.add(record)
    s.flush()
    return record.id


def register(mcp: MarketServer, db: MarketDB, config: ServerConfig) -> None:
    @mcp.tool(annotations=READ)
    def analyze_product_import(site: Site, rows: Rows = None, csv_text: CsvText = None) -> ImportAnalysis:
        """Check product rows (or CSV) for an import and show the draft; writes nothing."""
        with db.reader() as s:
            require_site(s, site)
            return analyze(s, site, rows, csv_text)

    @mcp.tool(annotations=WRITE_ADDITIVE)
    def commit_product_import(
        site: Site,
        rows: Rows = None,
        csv_text: CsvText = None,
        source_name: Annotated[str, Field(min_length=1, max_length=200, description="Where the rows came from")] = "import",
        dry_run: DryRun = False,
        approval_token: Token = None,
        idempotency_key: IdemKey = None,
        expected_before: Before = None,
    ) -> WriteResult:
        """Create the products, variants and stock of a clean import in one go (a write: needs approval)."""
        arguments = {"site": site, "rows": rows, "csv_text": csv_text, "source_name": source_name}

        def plan(s: Session) -> Plan:
            draft = analyze(s, site, rows, csv_text)
            if not draft.ok:
                listed = "; ".join(f"row {p.row} {p.field}: {p.message}" for p in draft.problems[:LISTED])
                more = f" (and {len(draft.problems) - LISTED} more)" if len(draft.problems) > LISTED else ""
                raise ValidationFailed(f"the import has {len(draft.problems)} problem(s): {listed}{more}; "
                                       "analyze_product_import lists them all")
            skus = [r.sku for r in draft.rows]
            created = f"; new categories: {', '.join(draft.new_categories)}" if draft.new_categories else ""
            # Every price the import sets, so the approver (and the console's limits) see what it charges.
            prices = {r.sku: r.price for r in draft.rows}
            places = money.digits(require_site(s, site).currency)
            low, high = min(prices.values()), max(prices.values())
            priced = f" priced {low:,.{places}f}" + (f"–{high:,.{places}f}" if high != low else "")
            return Plan(
                target=f"product import '{source_name}' ({draft.draft_id[:12]})",
                before={},
                after={"products_created": draft.products_to_create, "variants_created": draft.variants_to_create,
                       "skus": skus, "prices": prices, "draft_id": draft.draft_id},
                summary=(f"create {draft.products_to_create} product(s), {draft.variants_to_create} SKU(s)"
                         f"{priced}{created}"),
                impact={"units_added": float(sum(r.stock for r in draft.rows))},
                apply=lambda s: write_import(s, site, draft, source_name),
            )

        return run_write(db, config, tool="commit_product_import", site=site, arguments=signed_arguments(arguments),
                         control=write_control(dry_run, approval_token, idempotency_key, expected_before), plan=plan)
