"""Demo advertising data: profiles, campaigns, ad groups, keywords, product ads and their daily metrics.

Each keyword (or auto-campaign search term) gets a behaviour — clicks per day, CTR, CPC, CVR, price —
drawn from an archetype (star, healthy, above target, bleeding, burning money without orders), then
~90 days are simulated under the site's demand curve. A campaign's spend is capped by its daily budget;
the hour the cap was reached is kept in `campaign_budget_hours`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from servers.market.models import (
    AdGroup,
    AdProfile,
    Campaign,
    CampaignBudgetHour,
    Keyword,
    KeywordDailyMetric,
    NegativeKeyword,
    ProductAd,
    SearchTermDailyMetric,
)
from servers.market.seed_commerce import Group
from servers.market.seed_context import SeedContext
from servers.market.seed_words import (
    AUTO_TARGETS,
    DISPLAY_TARGETS,
    HARVEST_WORDS,
    INJECTIONS,
    INTERESTS,
    MODIFIERS,
    SiteSpec,
)

# Share of a day's spend per hour (site local time): quiet nights, busy evenings.
HOUR_SHAPE = (0.4, 0.25, 0.18, 0.15, 0.15, 0.25, 0.5, 0.9, 1.2, 1.4, 1.5, 1.6,
              1.7, 1.7, 1.7, 1.7, 1.8, 1.9, 2.1, 2.2, 2.0, 1.6, 1.1, 0.7)
CUM_SHARE = [sum(HOUR_SHAPE[:h]) / sum(HOUR_SHAPE) for h in range(25)]
PLATFORM = {  # cpc range in USD, ctr range, ACOS multiplier
    "amazon": ((0.5, 1.5), (0.002, 0.008), 1.0),
    "google": ((0.8, 2.0), (0.02, 0.05), 1.2),
    "meta": ((0.5, 1.2), (0.008, 0.015), 1.4),
}


@dataclass
class Unit:
    """One simulated traffic source: a keyword, or a search term inside an auto campaign."""

    keyword_id: int  # the keyword row its metrics land on (the targeting clause for auto terms)
    ad_group_id: int
    clicks: float
    ctr: float
    cpc: float
    cvr: float
    price: float
    term: str | None = None  # search term reported for it, if any
    paused_from: int | None = None  # day index from which it no longer runs


@dataclass
class Plan:
    id: int
    auto: bool
    units: list[Unit] = field(default_factory=list)
    keyword_ids: list[tuple[int, int | None]] = field(default_factory=list)  # (keyword id, paused_from)
    budget: float = 0.0
    active_until: int = 10**9


def _combos(lang: str, bases: tuple[str, ...]) -> list[str]:
    mods = MODIFIERS[lang]
    out = [f"{m} {b}" for b in bases for m in mods] + [f"{b} {m}" for b in bases for m in mods]
    out += [f"{m1} {m2} {b}" for b in bases for m1 in mods for m2 in mods if m1 != m2]
    return out


def _target_acos(ctx: SeedContext, site: SiteSpec, platform: str, bad: bool) -> float | None:
    """An ACOS the unit will run at; None for a unit that gets clicks but never converts."""
    r, u = ctx.rng.random(), ctx.rng.uniform
    if bad:
        return u(0.6, 0.95)
    lift = PLATFORM[platform][2]
    if r < 0.10:
        return u(0.07, 0.14) * lift
    if r < 0.72:
        return u(0.14, site.acos_target * 1.05) * lift
    if r < 0.87:
        return u(site.acos_target * 1.2, site.acos_target * 1.8) * lift
    if r < 0.93:
        return u(1.05, 1.6)
    return None


def _unit(ctx: SeedContext, site: SiteSpec, platform: str, group: Group, keyword_id: int, ad_group_id: int, *,
          bad: bool = False, acos: float | None | str = "draw", clicks: float | None = None, cvr: float | None = None,
          term: str | None = None) -> Unit:
    rng = ctx.rng
    (cpc_lo, cpc_hi), (ctr_lo, ctr_hi), _ = PLATFORM[platform]
    cpc = rng.uniform(cpc_lo, cpc_hi) * site.fx
    price = group.avg_price
    target = _target_acos(ctx, site, platform, bad) if acos == "draw" else acos
    if cvr is None:
        cvr = 0.0 if target is None else min(0.4, cpc / (target * price))
    if clicks is None:
        clicks = rng.uniform(1.2, 3.0) if cvr == 0 else min(25.0, rng.lognormvariate(math.log(1.6), 0.7))
    if cvr == 0:
        cpc = max(cpc, 0.8 * site.fx)  # a money burner: enough clicks at a real price, never an order
    return Unit(keyword_id, ad_group_id, clicks, rng.uniform(ctr_lo, ctr_hi), cpc, cvr, price, term)


def _simulate(rng, u: Unit, m: float, digits: int) -> list:
    expected = u.clicks * m * (0.75 + 0.5 * rng.random())
    clicks = int(expected + rng.random())
    impressions = int(expected / u.ctr * (0.85 + 0.3 * rng.random())) + clicks
    orders = min(clicks, int(clicks * u.cvr * (0.7 + 0.6 * rng.random()) + rng.random())) if u.cvr else 0
    spend = round(clicks * u.cpc * (0.85 + 0.3 * rng.random()), digits)
    units = orders + (1 if orders and rng.random() < 0.12 else 0)
    sales = round(orders * u.price * (0.9 + 0.3 * rng.random()), digits)
    return [impressions, clicks, spend, orders, units, sales]


def _capped(vals: list, k: float, digits: int) -> list:
    clicks = int(round(vals[1] * k))
    orders = min(clicks, int(round(vals[3] * k)))
    units = max(orders, int(round(vals[4] * k))) if orders else 0
    # No order left after the cut-off means no sale either.
    sales = round(vals[5] * k, digits) if orders else 0.0
    return [int(vals[0] * k), clicks, round(vals[2] * k, digits), orders, units, sales]


def _budget(ctx: SeedContext, site: SiteSpec, plan: Plan, kind: str) -> float:
    """A daily budget that makes the campaign run out around 12–15h, sit mostly unused, or fit."""
    expected = sum(u.clicks * u.cpc for u in plan.units) * 1.05
    if kind == "exhausted":
        raw = expected * CUM_SHARE[ctx.rng.randint(12, 15)]
    elif kind == "under":
        raw = expected / ctx.rng.uniform(0.22, 0.42)
    else:
        raw = expected / ctx.rng.uniform(0.55, 0.85)
    step, floor = (500, 1000) if site.money_digits == 0 else (5, 10)
    return float(max(floor, math.ceil(raw / step) * step))


def _emit(ctx: SeedContext, site: SiteSpec, plan: Plan) -> None:
    rng, out, digits = ctx.rng, ctx.out, site.money_digits
    mult = ctx.day_mult[site.id]
    for di, day in enumerate(ctx.days):
        if di >= plan.active_until:
            break
        rows = [(u, _simulate(rng, u, mult[di], digits)) for u in plan.units
                if u.paused_from is None or di < u.paused_from]
        natural = sum(v[2] for _, v in rows)
        if natural > plan.budget:  # the budget caps the day: traffic after the cut-off never happened
            k = plan.budget / natural
            rows = [(u, _capped(v, k, digits)) for u, v in rows]
        spent = sum(v[2] for _, v in rows)
        by_keyword: dict[int, list] = {}
        for u, v in rows:
            if plan.auto:
                acc = by_keyword.setdefault(u.keyword_id, [0, 0, 0.0, 0, 0, 0.0])
                for i in range(6):
                    acc[i] += v[i]
            else:
                by_keyword[u.keyword_id] = v
            if u.term is not None and v[0] > 0:
                out.add(SearchTermDailyMetric, {
                    "site_id": site.id, "campaign_id": plan.id, "ad_group_id": u.ad_group_id,
                    "keyword_id": None if plan.auto else u.keyword_id, "search_term": u.term, "date": day,
                    "impressions": v[0], "clicks": v[1], "spend": v[2], "orders": v[3], "units": v[4], "sales": v[5]})
        for kid, paused_from in plan.keyword_ids:
            if paused_from is not None and di >= paused_from:
                continue
            v = by_keyword.get(kid, [0, 0, 0.0, 0, 0, 0.0])
            out.add(KeywordDailyMetric, {
                "keyword_id": kid, "date": day, "site_id": site.id, "campaign_id": plan.id, "impressions": v[0],
                "clicks": v[1], "spend": round(v[2], digits), "orders": v[3], "units": v[4], "sales": round(v[5], digits)})
        weights = [w * rng.uniform(0.85, 1.15) for w in HOUR_SHAPE]
        total_w = sum(weights)
        cumulative = 0.0
        for hour, w in enumerate(weights):
            spend = round(min(natural * w / total_w, max(spent - cumulative, 0.0)), digits)
            if hour == 23 and natural <= plan.budget:
                spend = round(max(spent - cumulative, 0.0), digits)
            cumulative = round(cumulative + spend, digits)
            out.add(CampaignBudgetHour, {"campaign_id": plan.id, "date": day, "hour": hour, "site_id": site.id,
                                         "budget": plan.budget, "spend": spend, "cumulative_spend": cumulative})


def seed_ads(ctx: SeedContext, site: SiteSpec) -> None:
    """Profiles, campaigns (SP auto/manual per product group; SB, SD, meta, google), keywords and their metrics."""
    rng, out, scale = ctx.rng, ctx.out, ctx.scale
    groups: list[Group] = ctx.catalog[site.id].groups
    ndays = len(ctx.days)
    profiles = {}
    for platform in ("amazon", "meta", "google"):
        profiles[platform] = ctx.next_id(AdProfile)
        out.add(AdProfile, {"id": profiles[platform], "site_id": site.id, "platform": platform,
                            "account_name": f"Demo Brands {site.id.upper()} ({platform})",
                            "account_type": "seller" if platform == "amazon" else "advertiser"})
    bad_groups = {1} | set(range(20, scale.groups_per_site, 20))
    plans: list[tuple[Plan, dict]] = []
    advertised: list[tuple[int, int]] = []  # (campaign id, variant id)
    created = dt.datetime.combine(ctx.days[0], dt.time(10))

    def campaign(platform: str, ctype: str, targeting: str, name: str, group: Group) -> tuple[Plan, dict]:
        cid = ctx.next_id(Campaign)
        row = {"id": cid, "site_id": site.id, "profile_id": profiles[platform], "platform": platform, "name": name,
               "campaign_type": ctype, "targeting": targeting, "state": "enabled", "daily_budget": 0.0,
               "start_date": ctx.days[0] - dt.timedelta(days=rng.randrange(30, 400))}
        plan = Plan(id=cid, auto=targeting == "auto")
        plans.append((plan, row))
        return plan, row

    def ad_group(plan: Plan, name: str, group: Group, n_products: int, lead: bool = False) -> int:
        """An ad group advertising n of the group's variants (its lead variant first when `lead`)."""
        agid = ctx.next_id(AdGroup)
        out.add(AdGroup, {"id": agid, "site_id": site.id, "campaign_id": plan.id, "name": name,
                          "default_bid": round(0.9 * site.fx, site.money_digits), "state": "enabled"})
        picks = group.variants[:n_products] if lead else rng.sample(group.variants, min(n_products, len(group.variants)))
        for v in picks:
            out.add(ProductAd, {"id": ctx.next_id(ProductAd), "site_id": site.id, "campaign_id": plan.id,
                                "ad_group_id": agid, "variant_id": v.id, "sku": v.sku, "state": "enabled"})
            advertised.append((plan.id, v.id))
        return agid

    def keyword(plan: Plan, agid: int, text: str, match: str, cpc: float, paused: bool = False) -> int:
        kid = ctx.next_id(Keyword)
        out.add(Keyword, {"id": kid, "site_id": site.id, "campaign_id": plan.id, "ad_group_id": agid, "text": text,
                          "match_type": match, "bid": round(cpc * rng.uniform(1.1, 1.45), site.money_digits),
                          "state": "paused" if paused else "enabled"})
        plan.keyword_ids.append((kid, ndays - 14 if paused else None))
        return kid

    def add_keyword(plan: Plan, agid: int, group: Group, text: str, match: str, platform: str, bad: bool = False) -> None:
        unit = _unit(ctx, site, platform, group, 0, agid, bad=bad)
        if not plan.auto and rng.random() < scale.manual_term_share:
            unit.term = text if match == "exact" else f"{text} {rng.choice(MODIFIERS[site.lang])}"
        paused = rng.random() < 0.03
        unit.keyword_id = keyword(plan, agid, text, match, unit.cpc, paused)
        unit.paused_from = ndays - 14 if paused else None
        plan.units.append(unit)

    first_auto = True
    out.defer(True)  # ad groups and keywords are written before their campaigns (budgets come last)
    for group in groups:
        cat, lang = group.category, site.lang
        suffix = f" #{group.index // 6 + 1}" if group.index >= 6 else ""
        bases = cat.search[lang]
        manual, _ = campaign("amazon", "SP", "manual", f"{site.id.upper()} SP Manual - {cat.name}{suffix}", group)
        texts = rng.sample(_combos(lang, bases), scale.manual_ad_groups * scale.keywords_per_ad_group)
        exact_texts = []
        for a in range(scale.manual_ad_groups):
            agid = ad_group(manual, f"{bases[a % len(bases)]} {a + 1}", group, rng.randint(1, 2), lead=a == 0)
            for text in texts[a * scale.keywords_per_ad_group:(a + 1) * scale.keywords_per_ad_group]:
                match = rng.choices(("exact", "phrase", "broad"), (4, 3, 3))[0]
                exact_texts += [text] if match == "exact" else []
                add_keyword(manual, agid, group, text, match, "amazon", bad=group.index in bad_groups)
        if group.index % 3 == 0:
            out.add(NegativeKeyword, {"id": ctx.next_id(NegativeKeyword), "site_id": site.id, "campaign_id": manual.id,
                                      "ad_group_id": None, "text": f"{bases[0]} {MODIFIERS[lang][9]}",
                                      "match_type": "negative_phrase", "created_at": created})

        auto, _ = campaign("amazon", "SP", "auto", f"{site.id.upper()} SP Auto - {cat.name}{suffix}", group)
        agid = ad_group(auto, f"{cat.name} auto", group, 4, lead=True)  # shares its lead SKU with the manual one
        clauses = [keyword(auto, agid, t, "auto", 0.9 * site.fx) for t in AUTO_TARGETS]
        harvest = rng.sample([f"{b} {w}" for b in bases for w in HARVEST_WORDS[lang]], 2)
        terms: list[tuple[str, dict]] = [(t, {"clicks": rng.uniform(1.2, 2.0), "cvr": rng.uniform(0.17, 0.3)})
                                         for t in harvest]
        if exact_texts:  # a winner that was harvested already: the finder must skip it
            terms.append((rng.choice(exact_texts), {"clicks": rng.uniform(1.2, 2.0), "cvr": 0.2}))
        # Product-page (ASIN) and generic terms convert modestly: worth keeping, not worth harvesting.
        terms += [("b0" + "".join(rng.choices("abcdefghjkmnpqrstuvwxyz0123456789", k=8)), {"cvr": rng.uniform(0.03, 0.09)})
                  for _ in range(2)]
        terms += [(t, {"cvr": rng.uniform(0.02, 0.09)}) for t in rng.sample(_combos(lang, bases), 7)]
        if first_auto:  # a shopper's query that reads like an instruction
            terms.append((INJECTIONS[0], {"acos": None, "clicks": 0.6, "cvr": 0.0}))
            first_auto = False
        for text, how in terms:
            unit = _unit(ctx, site, "amazon", group, rng.choice(clauses), agid, term=text, **how)
            auto.units.append(unit)
        out.add(NegativeKeyword, {"id": ctx.next_id(NegativeKeyword), "site_id": site.id, "campaign_id": auto.id,
                                  "ad_group_id": None, "text": f"used {bases[0]}", "match_type": "negative_exact",
                                  "created_at": created})

    extra = [groups[i % len(groups)] for i in range(scale.extra_campaigns)]
    for i, group in enumerate(extra):
        cat, bases, tag = group.category, group.category.search[site.lang], f"{site.id.upper()}"
        sb, sb_row = campaign("amazon", "SB", "manual", f"{tag} SB Brand - {cat.name} {i + 1}", group)
        agid = ad_group(sb, f"{cat.name} brand", group, 3)
        for text in rng.sample(_combos(site.lang, bases), 6):
            add_keyword(sb, agid, group, text, rng.choice(("phrase", "broad")), "amazon")
        if i == len(extra) - 1:  # paused three weeks ago
            sb_row["state"], sb.active_until = "paused", ndays - 20
        sd, _ = campaign("amazon", "SD", "manual", f"{tag} SD Retargeting - {cat.name} {i + 1}", group)
        agid = ad_group(sd, "audiences", group, 2)
        for text in rng.sample(DISPLAY_TARGETS, 3):
            add_keyword(sd, agid, group, text, "broad", "amazon")
        meta, _ = campaign("meta", "SD", "manual", f"{tag} Meta Prospecting - {cat.name} {i + 1}", group)
        for a in range(2):
            agid = ad_group(meta, f"ad set {a + 1}", group, 0)
            for text in rng.sample(INTERESTS, 3):
                add_keyword(meta, agid, group, text, "broad", "meta")
        google, _ = campaign("google", "SP", "manual", f"{tag} Google Search - {cat.name} {i + 1}", group)
        for a in range(2):
            agid = ad_group(google, f"{bases[a % len(bases)]} search", group, 0)
            for text in rng.sample(_combos(site.lang, bases), 6):
                add_keyword(google, agid, group, text, rng.choice(("exact", "phrase", "broad")), "google")

    enabled = [p for p, row in plans if row["state"] == "enabled"]
    order = rng.sample([p.id for p in enabled], len(enabled))
    n_class = max(3, len(enabled) * 12 // 100)
    kinds = {cid: "exhausted" if rank < n_class else "under" if rank < 2 * n_class else "ok" for rank, cid in enumerate(order)}
    for plan, row in plans:
        plan.budget = _budget(ctx, site, plan, kinds.get(plan.id, "ok"))
        row["daily_budget"] = plan.budget
        out.add(Campaign, row)
    out.defer(False)
    out.flush()  # campaigns before anything that points at them
    for plan, _ in plans:
        _emit(ctx, site, plan)
    live = {p.id for p in enabled}
    ctx.advertised[site.id] = list(dict.fromkeys(vid for cid, vid in advertised if cid in live))
